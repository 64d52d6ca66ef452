//! A small CLAP test host on `clack-host`: loads a `.clap` file, lists its ports and parameters,
//! activates it, and renders blocks of audio with sample-accurate note and parameter events.
//!
//! The plugin's main thread is the thread that called [`ClapHost::load`]; audio processing runs
//! on a dedicated audio thread owned by the host (as in a real host), so a plugin that checks
//! "am I on the main thread?" from `process` gets the honest answer. After every processed block
//! (and in [`ClapHost::pump_main_thread`]) the host services the plugin's `request_callback` by
//! calling its `on_main_thread` on the main thread.
//!
//! Every declared audio port gets buffers (input ports get constant silence) and the plugin
//! always gets non-null input and output event lists.

use std::ffi::CStr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::{anyhow, bail, Context, Result};
use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::gui::{
    GuiApiType, GuiConfiguration, GuiSize, HostGui, HostGuiImpl, PluginGui, Window,
};
use clack_extensions::latency::{HostLatency, HostLatencyImpl, PluginLatency};
use clack_extensions::note_ports::{NoteDialects, NotePortInfoBuffer, PluginNotePorts};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamInfoFlags, ParamRescanFlags, PluginParams,
};
use clack_extensions::remote_controls::{PluginRemoteControls, RemoteControlsPageBuffer};
use clack_extensions::state::{HostState, HostStateImpl, PluginState};
use clack_extensions::voice_info::{HostVoiceInfo, HostVoiceInfoImpl, PluginVoiceInfo};
use clack_host::events::event_types::{
    MidiEvent, NoteEndEvent, NoteExpressionEvent, NoteExpressionType, NoteOffEvent, NoteOnEvent,
    ParamModEvent, ParamValueEvent,
};
use clack_host::prelude::*;

/// The plugin id the host looks for first (Sirenade's CLAP id).
pub const SIRENADE_CLAP_ID: &str = "dev.sirenade.synth";

/// An event for one processed block; `time` is the sample offset inside the block (or, for
/// [`ClapHost::render`], the absolute frame since the start of the render).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// A CLAP note-on on note port 0, channel 0.
    NoteOn {
        /// Sample offset of the event.
        time: u32,
        /// MIDI key, 0..=127.
        key: u8,
        /// Velocity, 0..=1.
        velocity: f64,
        /// CLAP note id, or a negative number for "unspecified" (-1).
        note_id: i32,
    },
    /// A CLAP note-off on note port 0, channel 0.
    NoteOff {
        /// Sample offset of the event.
        time: u32,
        /// MIDI key, 0..=127.
        key: u8,
        /// CLAP note id, or a negative number for "unspecified" (-1).
        note_id: i32,
    },
    /// A (global) CLAP parameter value change.
    ParamValue {
        /// Sample offset of the event.
        time: u32,
        /// CLAP parameter id (as listed by [`ClapHost::params`]).
        param_id: u32,
        /// The plain value, in the range the parameter's info declares.
        value: f64,
    },
    /// A CLAP parameter modulation of one voice (polyphonic modulation): `amount` added to
    /// the parameter's value for the note `note_id`, in the parameter's own units.
    ParamMod {
        /// Sample offset of the event.
        time: u32,
        /// CLAP parameter id (as listed by [`ClapHost::params`]).
        param_id: u32,
        /// CLAP note id of the voice.
        note_id: i32,
        /// The offset.
        amount: f64,
    },
    /// A raw three-byte MIDI message on note port 0 (pitch bend, control change).
    Midi {
        /// Sample offset of the event.
        time: u32,
        /// Status and two data bytes.
        data: [u8; 3],
    },
    /// A CLAP note expression on note port 0 for the notes of `key` (a negative key: any key)
    /// on `channel` (negative: any channel), or the note `note_id` when it is not negative.
    NoteExpression {
        /// Sample offset of the event.
        time: u32,
        /// MIDI key, or −1 for any.
        key: i16,
        /// MIDI channel, or −1 for any.
        channel: i16,
        /// CLAP note id, or −1 for any.
        note_id: i32,
        /// Which expression.
        expression: NoteExpressionType,
        /// Its value on CLAP's scale (tuning in semitones, volume 0..4, pan 0..1).
        value: f64,
    },
}

impl Event {
    /// The event's time (sample offset).
    pub fn time(&self) -> u32 {
        match *self {
            Event::NoteOn { time, .. }
            | Event::NoteOff { time, .. }
            | Event::ParamValue { time, .. }
            | Event::ParamMod { time, .. }
            | Event::Midi { time, .. }
            | Event::NoteExpression { time, .. } => time,
        }
    }

    /// The same event at another time.
    pub fn at(mut self, new_time: u32) -> Self {
        match &mut self {
            Event::NoteOn { time, .. }
            | Event::NoteOff { time, .. }
            | Event::ParamValue { time, .. }
            | Event::ParamMod { time, .. }
            | Event::Midi { time, .. }
            | Event::NoteExpression { time, .. } => *time = new_time,
        }
        self
    }
}

/// One parameter as the plugin's params extension describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDesc {
    /// CLAP parameter id.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Module path (may be empty).
    pub module: String,
    /// Minimum plain value.
    pub min: f64,
    /// Maximum plain value.
    pub max: f64,
    /// Default plain value.
    pub default: f64,
    /// CLAP parameter flags (`IS_STEPPED`, `IS_AUTOMATABLE`, ...).
    pub flags: ParamInfoFlags,
}

impl ParamDesc {
    /// Whether the parameter only takes integer plain values (`CLAP_PARAM_IS_STEPPED`).
    pub fn is_stepped(&self) -> bool {
        self.flags.contains(ParamInfoFlags::IS_STEPPED)
    }
}

/// One audio port as the plugin's audio-ports extension describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioPortDesc {
    /// Port id.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Number of channels.
    pub channel_count: u32,
    /// Port type (`"stereo"`, `"mono"`, ...), if given.
    pub port_type: Option<String>,
}

/// One note port as the plugin's note-ports extension describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotePortDesc {
    /// Port id.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Supported dialects (CLAP, MIDI, MIDI-MPE, MIDI 2).
    pub supported_dialects: NoteDialects,
}

/// What the plugin's descriptor says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginDesc {
    /// CLAP plugin id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Vendor, if given.
    pub vendor: Option<String>,
    /// Version, if given.
    pub version: Option<String>,
    /// Feature strings (`"instrument"`, `"synthesizer"`, ...).
    pub features: Vec<String>,
}

/// Voice information from the plugin's voice-info extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoiceInfoDesc {
    /// Current voice count.
    pub voice_count: u32,
    /// Maximum voice capacity.
    pub voice_capacity: u32,
}

/// One page of the plugin's remote controls (eight knobs of a hardware controller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteControlsPageDesc {
    /// The section the page belongs to.
    pub section: String,
    /// The page's name.
    pub name: String,
    /// The parameter of each of the eight slots, if any.
    pub param_ids: [Option<u32>; 8],
}

/// Counters of what the plugin asked of the host, through callbacks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HostCallbackCounts {
    /// `on_main_thread` calls the host made in answer to `request_callback`.
    pub main_thread_callbacks: u32,
    /// `request_restart` calls.
    pub restart_requests: u32,
    /// `params.rescan` calls.
    pub param_rescans: u32,
    /// `state.mark_dirty` calls.
    pub state_dirty: u32,
    /// `latency.changed` calls.
    pub latency_changes: u32,
    /// `latency.changed` calls made outside `activate`, which CLAP forbids: a plugin whose
    /// latency changes while active asks for a restart and reports it in the next `activate`.
    pub latency_changes_outside_activation: u32,
    /// Restarts the host made because the plugin asked ([`ClapHost::restart_if_requested`]).
    pub restarts: u32,
}

/// The host's thread-safe callback handler.
#[derive(Default)]
pub struct HostShared {
    callback_requested: AtomicBool,
    restart_requests: AtomicU32,
    process_requested: AtomicBool,
    flush_requested: AtomicBool,
}

impl SharedHandler<'_> for HostShared {
    fn request_restart(&self) {
        self.restart_requests.fetch_add(1, Ordering::SeqCst);
    }

    fn request_process(&self) {
        self.process_requested.store(true, Ordering::SeqCst);
    }

    fn request_callback(&self) {
        self.callback_requested.store(true, Ordering::SeqCst);
    }
}

impl HostGuiImpl for HostShared {
    fn resize_hints_changed(&self) {}

    /// The test host's windows take any size the editor asks for.
    fn request_resize(&self, _new_size: GuiSize) -> std::result::Result<(), HostError> {
        Ok(())
    }

    fn request_show(&self) -> std::result::Result<(), HostError> {
        Ok(())
    }

    fn request_hide(&self) -> std::result::Result<(), HostError> {
        Ok(())
    }

    fn closed(&self, _was_destroyed: bool) {}
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        self.flush_requested.store(true, Ordering::SeqCst);
    }
}

/// The host's main-thread callback handler.
#[derive(Default)]
pub struct HostMainThread {
    param_rescans: AtomicU32,
    state_dirty: AtomicU32,
    latency_changes: AtomicU32,
    latency_changes_outside_activation: AtomicU32,
    /// Whether the plugin's `activate` is running (set by the host around the call).
    activating: AtomicBool,
    voice_info_changes: AtomicU32,
}

impl MainThreadHandler<'_> for HostMainThread {}

impl HostParamsImplMainThread for HostMainThread {
    fn rescan(&self, _flags: ParamRescanFlags) {
        self.param_rescans.fetch_add(1, Ordering::SeqCst);
    }

    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {}
}

impl HostStateImpl for HostMainThread {
    fn mark_dirty(&self) {
        self.state_dirty.fetch_add(1, Ordering::SeqCst);
    }
}

impl HostLatencyImpl for HostMainThread {
    fn changed(&self) {
        self.latency_changes.fetch_add(1, Ordering::SeqCst);
        if !self.activating.load(Ordering::SeqCst) {
            self.latency_changes_outside_activation
                .fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl HostVoiceInfoImpl for HostMainThread {
    fn changed(&self) {
        self.voice_info_changes.fetch_add(1, Ordering::SeqCst);
    }
}

/// The host's handler types (for `clack-host`).
pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMainThread;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder
            .register::<HostParams>()
            .register::<HostState>()
            .register::<HostLatency>()
            .register::<HostVoiceInfo>()
            .register::<HostGui>();
    }
}

/// The result of one processed block.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockOutput {
    /// The first output port's first two channels (a mono port is duplicated).
    pub audio: [Vec<f32>; 2],
    /// Note-end (voice terminated) events the plugin sent in this block.
    pub note_ends: u32,
    /// All events the plugin sent in this block.
    pub output_events: u32,
}

enum AudioCommand {
    Process {
        frames: u32,
        steady_time: u64,
        events: Vec<Event>,
    },
    Flush {
        events: Vec<Event>,
    },
    Stop,
}

type AudioReply = std::result::Result<BlockOutput, String>;

/// The audio thread with the started processor.
struct AudioThread {
    commands: mpsc::Sender<AudioCommand>,
    replies: mpsc::Receiver<AudioReply>,
    handle: JoinHandle<StoppedPluginAudioProcessor<TestHost>>,
    sample_rate: f64,
    max_block: u32,
}

/// A loaded CLAP plugin instance with its host.
pub struct ClapHost {
    audio: Option<AudioThread>,
    instance: PluginInstance<TestHost>,
    entry: PluginEntry,
    descriptor: PluginDesc,
    params: Vec<ParamDesc>,
    input_ports: Vec<AudioPortDesc>,
    output_ports: Vec<AudioPortDesc>,
    note_input_ports: Vec<NotePortDesc>,
    params_ext: Option<PluginParams>,
    state_ext: Option<PluginState>,
    latency_ext: Option<PluginLatency>,
    voice_info_ext: Option<PluginVoiceInfo>,
    remote_controls_ext: Option<PluginRemoteControls>,
    gui_ext: Option<PluginGui>,
    /// Whether the plugin's GUI is created.
    gui_open: bool,
    steady_time: u64,
    main_thread_callbacks: u32,
    /// Restart requests the host has served (or found the plugin inactive for).
    restarts_served: u32,
    /// Restarts made for the plugin.
    restarts: u32,
    /// Whether `process` leaves the plugin's main-thread callbacks for later.
    callbacks_deferred: bool,
    note_ends: u64,
}

fn bytes_to_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn cstr_to_string(s: Option<&CStr>) -> Option<String> {
    s.map(|s| s.to_string_lossy().into_owned())
}

impl ClapHost {
    /// Loads the `.clap` file at `path` (its `clap_entry`), picks the plugin `dev.sirenade.synth`
    /// (or the first one the factory lists), creates an instance and reads its descriptor,
    /// audio and note ports and parameters.
    pub fn load(path: &Path) -> Result<Self> {
        // SAFETY: loading a plugin library runs its initialisers; the test trusts the plugin it
        // built itself.
        let entry = unsafe { PluginEntry::load(path) }
            .map_err(|e| anyhow!("loading CLAP entry from {}: {e:?}", path.display()))?;
        let factory = entry
            .get_plugin_factory()
            .ok_or_else(|| anyhow!("{} exposes no plugin factory", path.display()))?;
        let descriptors: Vec<_> = factory.plugin_descriptors().collect();
        let chosen = descriptors
            .iter()
            .find(|d| d.id().map(|id| id.to_bytes()) == Some(SIRENADE_CLAP_ID.as_bytes()))
            .or(descriptors.first())
            .ok_or_else(|| anyhow!("{} lists no plugins", path.display()))?;
        let plugin_id = chosen
            .id()
            .ok_or_else(|| anyhow!("plugin descriptor without id"))?
            .to_owned();
        let descriptor = PluginDesc {
            id: plugin_id.to_string_lossy().into_owned(),
            name: cstr_to_string(chosen.name()).unwrap_or_default(),
            vendor: cstr_to_string(chosen.vendor()),
            version: cstr_to_string(chosen.version()),
            features: chosen
                .features()
                .map(|f| f.to_string_lossy().into_owned())
                .collect(),
        };

        let host_info = HostInfo::new(
            "sirenade-tests",
            "Sirenade",
            "https://example.invalid/sirenade",
            "0.1.0",
        )?;
        let mut instance = PluginInstance::<TestHost>::new(
            |_| HostShared::default(),
            |_| HostMainThread::default(),
            &entry,
            &plugin_id,
            &host_info,
        )
        .map_err(|e| anyhow!("creating plugin instance {}: {e:?}", descriptor.id))?;

        let handle = instance.plugin_handle();
        let params_ext = handle.get_extension::<PluginParams>();
        let state_ext = handle.get_extension::<PluginState>();
        let latency_ext = handle.get_extension::<PluginLatency>();
        let voice_info_ext = handle.get_extension::<PluginVoiceInfo>();
        let remote_controls_ext = handle.get_extension::<PluginRemoteControls>();
        let gui_ext = handle.get_extension::<PluginGui>();
        let audio_ports_ext = handle.get_extension::<PluginAudioPorts>();
        let note_ports_ext = handle.get_extension::<PluginNotePorts>();

        let mut input_ports = Vec::new();
        let mut output_ports = Vec::new();
        if let Some(ports) = audio_ports_ext {
            for (is_input, list) in [(true, &mut input_ports), (false, &mut output_ports)] {
                for index in 0..ports.count(&handle, is_input) {
                    let mut buffer = AudioPortInfoBuffer::new();
                    let info = ports
                        .get(&handle, index, is_input, &mut buffer)
                        .ok_or_else(|| anyhow!("audio port {index} (input: {is_input}) info"))?;
                    list.push(AudioPortDesc {
                        id: info.id.get(),
                        name: bytes_to_string(info.name),
                        channel_count: info.channel_count,
                        port_type: info.port_type.map(|t| t.0.to_string_lossy().into_owned()),
                    });
                }
            }
        }

        let mut note_input_ports = Vec::new();
        if let Some(ports) = note_ports_ext {
            for index in 0..ports.count(&handle, true) {
                let mut buffer = NotePortInfoBuffer::new();
                let info = ports
                    .get(&handle, index, true, &mut buffer)
                    .ok_or_else(|| anyhow!("note port {index} info"))?;
                note_input_ports.push(NotePortDesc {
                    id: info.id.get(),
                    name: bytes_to_string(info.name),
                    supported_dialects: info.supported_dialects,
                });
            }
        }

        let mut params = Vec::new();
        if let Some(ext) = params_ext {
            for index in 0..ext.count(&handle) {
                let mut buffer = ParamInfoBuffer::new();
                let info = ext
                    .get_info(&handle, index, &mut buffer)
                    .ok_or_else(|| anyhow!("parameter {index} info"))?;
                params.push(ParamDesc {
                    id: info.id.get(),
                    name: bytes_to_string(info.name),
                    module: bytes_to_string(info.module),
                    min: info.min_value,
                    max: info.max_value,
                    default: info.default_value,
                    flags: info.flags,
                });
            }
        }

        let mut host = Self {
            audio: None,
            instance,
            entry,
            descriptor,
            params,
            input_ports,
            output_ports,
            note_input_ports,
            params_ext,
            state_ext,
            latency_ext,
            voice_info_ext,
            remote_controls_ext,
            gui_ext,
            gui_open: false,
            steady_time: 0,
            main_thread_callbacks: 0,
            restarts_served: 0,
            restarts: 0,
            callbacks_deferred: false,
            note_ends: 0,
        };
        host.pump_main_thread();
        Ok(host)
    }

    /// The chosen plugin's descriptor.
    pub fn descriptor(&self) -> &PluginDesc {
        &self.descriptor
    }

    /// The CLAP version the entry reports, as `(major, minor, revision)`.
    pub fn clap_version(&self) -> (u32, u32, u32) {
        let v = self.entry.version();
        (v.major, v.minor, v.revision)
    }

    /// The plugin's audio input ports.
    pub fn audio_inputs(&self) -> &[AudioPortDesc] {
        &self.input_ports
    }

    /// The plugin's audio output ports.
    pub fn audio_outputs(&self) -> &[AudioPortDesc] {
        &self.output_ports
    }

    /// The plugin's note input ports.
    pub fn note_inputs(&self) -> &[NotePortDesc] {
        &self.note_input_ports
    }

    /// All parameters, in the plugin's order.
    pub fn params(&self) -> &[ParamDesc] {
        &self.params
    }

    /// The parameter with this display name.
    pub fn param_by_name(&self, name: &str) -> Option<&ParamDesc> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The parameter with this display name, or an error naming what is missing.
    pub fn param(&self, name: &str) -> Result<&ParamDesc> {
        self.param_by_name(name).ok_or_else(|| {
            let names: Vec<_> = self.params.iter().map(|p| p.name.as_str()).collect();
            anyhow!("no parameter named {name:?}; the plugin has {names:?}")
        })
    }

    /// The parameter's current plain value (params extension `get_value`).
    pub fn param_value(&mut self, param_id: u32) -> Result<f64> {
        let ext = self
            .params_ext
            .ok_or_else(|| anyhow!("plugin has no params extension"))?;
        let handle = self.instance.plugin_handle();
        ext.get_value(&handle, ClapId::new(param_id))
            .ok_or_else(|| anyhow!("get_value failed for parameter id {param_id}"))
    }

    /// The value the plugin reads from `text` for the parameter (`text_to_value`); `None` when it
    /// cannot parse it.
    pub fn param_from_text(&mut self, param_id: u32, text: &str) -> Result<Option<f64>> {
        let ext = self
            .params_ext
            .ok_or_else(|| anyhow!("plugin has no params extension"))?;
        let handle = self.instance.plugin_handle();
        let text = std::ffi::CString::new(text)
            .map_err(|_| anyhow!("parameter text {text:?} holds a NUL"))?;
        Ok(ext.text_to_value(&handle, ClapId::new(param_id), &text))
    }

    /// The parameter's value as the plugin formats it (`value_to_text`).
    pub fn param_text(&mut self, param_id: u32, value: f64) -> Result<String> {
        let ext = self
            .params_ext
            .ok_or_else(|| anyhow!("plugin has no params extension"))?;
        let handle = self.instance.plugin_handle();
        let mut buffer = [0u8; 256];
        let text = ext
            .value_to_text(&handle, ClapId::new(param_id), value, &mut buffer)
            .map_err(|_| anyhow!("value_to_text failed for parameter id {param_id}"))?;
        Ok(String::from_utf8_lossy(text).into_owned())
    }

    /// Sets parameters outside `process`: through the params extension's `flush` (on the main
    /// thread when inactive, on the audio thread between blocks when active). Only
    /// [`Event::ParamValue`] events are sent.
    pub fn flush_params(&mut self, values: &[(u32, f64)]) -> Result<()> {
        let events: Vec<Event> = values
            .iter()
            .map(|&(param_id, value)| Event::ParamValue {
                time: 0,
                param_id,
                value,
            })
            .collect();
        if let Some(audio) = &self.audio {
            audio
                .commands
                .send(AudioCommand::Flush { events })
                .map_err(|_| anyhow!("audio thread is gone"))?;
            let reply = audio
                .replies
                .recv()
                .map_err(|_| anyhow!("audio thread is gone"))?;
            reply.map_err(|e| anyhow!(e))?;
        } else {
            let ext = self
                .params_ext
                .ok_or_else(|| anyhow!("plugin has no params extension"))?;
            let mut input = EventBuffer::with_capacity(events.len());
            fill_event_buffer(&mut input, &events);
            let mut output = EventBuffer::with_capacity(64);
            let mut handle = self
                .instance
                .inactive_plugin_handle()
                .ok_or_else(|| anyhow!("plugin unexpectedly active"))?;
            ext.flush(&mut handle, &input.as_input(), &mut output.as_output());
        }
        self.pump_main_thread();
        Ok(())
    }

    /// The plugin's latency in samples, if it implements the latency extension.
    pub fn latency(&mut self) -> Option<u32> {
        let ext = self.latency_ext?;
        let handle = self.instance.plugin_handle();
        Some(ext.get(&handle))
    }

    /// The plugin's voice info, if it implements the voice-info extension.
    pub fn voice_info(&mut self) -> Option<VoiceInfoDesc> {
        let ext = self.voice_info_ext?;
        let handle = self.instance.plugin_handle();
        ext.get(&handle).map(|v| VoiceInfoDesc {
            voice_count: v.voice_count,
            voice_capacity: v.voice_capacity,
        })
    }

    /// The plugin's remote-controls pages, in order (empty without the extension).
    pub fn remote_controls(&mut self) -> Vec<RemoteControlsPageDesc> {
        let Some(ext) = self.remote_controls_ext else {
            return Vec::new();
        };
        let handle = self.instance.plugin_handle();
        let mut buffer = RemoteControlsPageBuffer::new();
        (0..ext.count(&handle))
            .filter_map(|i| {
                ext.get(&handle, i, &mut buffer)
                    .map(|page| RemoteControlsPageDesc {
                        section: bytes_to_string(page.section_name),
                        name: bytes_to_string(page.page_name),
                        param_ids: page.param_ids.map(|id| id.map(|id| id.get())),
                    })
            })
            .collect()
    }

    /// Saves the plugin's state (state extension) into bytes.
    pub fn save_state(&mut self) -> Result<Vec<u8>> {
        let ext = self
            .state_ext
            .ok_or_else(|| anyhow!("plugin has no state extension"))?;
        let mut bytes = Vec::new();
        ext.save(&self.instance.plugin_handle(), &mut bytes)
            .map_err(|e| anyhow!("state save failed: {e:?}"))?;
        self.pump_main_thread();
        Ok(bytes)
    }

    /// Loads state bytes (as [`ClapHost::save_state`] writes them) into the plugin.
    pub fn load_state(&mut self, bytes: &[u8]) -> Result<()> {
        let ext = self
            .state_ext
            .ok_or_else(|| anyhow!("plugin has no state extension"))?;
        let mut reader = bytes;
        ext.load(&self.instance.plugin_handle(), &mut reader)
            .map_err(|e| anyhow!("state load failed: {e:?}"))?;
        self.pump_main_thread();
        Ok(())
    }

    /// Creates the plugin's GUI embedded in the X11 window `parent` (CLAP's `x11` API, not
    /// floating), tells it the display's `scale` (as a host on a HiDPI screen does), gives it
    /// its parent and shows it. Returns the size the plugin asks for, in pixels.
    ///
    /// The window must stay open until [`ClapHost::close_editor`] (or the host is dropped).
    pub fn open_editor_x11(&mut self, parent: u32, scale: f64) -> Result<(u32, u32)> {
        let gui = self
            .gui_ext
            .ok_or_else(|| anyhow!("plugin has no gui extension"))?;
        let config = GuiConfiguration {
            api_type: GuiApiType::X11,
            is_floating: false,
        };
        let handle = self.instance.plugin_handle();
        if !gui.is_api_supported(&handle, config) {
            bail!("the plugin does not support an embedded X11 GUI");
        }
        gui.create(&handle, config)
            .map_err(|e| anyhow!("gui.create: {e:?}"))?;
        self.gui_open = true;
        gui.set_scale(&handle, scale)
            .map_err(|e| anyhow!("gui.set_scale({scale}): {e:?}"))?;
        let size = gui
            .get_size(&handle)
            .ok_or_else(|| anyhow!("gui.get_size failed"))?;
        // SAFETY: the caller keeps the window open while the GUI exists.
        unsafe { gui.set_parent(&handle, Window::from_x11_handle(parent.into())) }
            .map_err(|e| anyhow!("gui.set_parent: {e:?}"))?;
        gui.show(&handle).map_err(|e| anyhow!("gui.show: {e:?}"))?;
        self.pump_main_thread();
        Ok((size.width, size.height))
    }

    /// The size of the open GUI.
    pub fn editor_size(&mut self) -> Result<(u32, u32)> {
        let gui = self
            .gui_ext
            .ok_or_else(|| anyhow!("plugin has no gui extension"))?;
        let size = gui
            .get_size(&self.instance.plugin_handle())
            .ok_or_else(|| anyhow!("gui.get_size failed"))?;
        Ok((size.width, size.height))
    }

    /// Whether the GUI may be resized, and the size the plugin accepts closest to `wanted`.
    pub fn editor_adjusted_size(&mut self, wanted: (u32, u32)) -> Result<(bool, (u32, u32))> {
        let gui = self
            .gui_ext
            .ok_or_else(|| anyhow!("plugin has no gui extension"))?;
        let handle = self.instance.plugin_handle();
        let can = gui.can_resize(&handle);
        let adjusted = gui
            .adjust_size(
                &handle,
                GuiSize {
                    width: wanted.0,
                    height: wanted.1,
                },
            )
            .ok_or_else(|| anyhow!("gui.adjust_size failed"))?;
        Ok((can, (adjusted.width, adjusted.height)))
    }

    /// Resizes the open GUI (the host's window already has the new size).
    pub fn set_editor_size(&mut self, size: (u32, u32)) -> Result<()> {
        let gui = self
            .gui_ext
            .ok_or_else(|| anyhow!("plugin has no gui extension"))?;
        gui.set_size(
            &self.instance.plugin_handle(),
            GuiSize {
                width: size.0,
                height: size.1,
            },
        )
        .map_err(|e| anyhow!("gui.set_size: {e:?}"))
    }

    /// Hides and destroys the GUI, if open.
    pub fn close_editor(&mut self) {
        if let (Some(gui), true) = (self.gui_ext, self.gui_open) {
            let handle = self.instance.plugin_handle();
            let _ = gui.hide(&handle);
            gui.destroy(&handle);
            self.gui_open = false;
            self.pump_main_thread();
        }
    }

    /// Services the plugin's pending `request_callback` by calling its `on_main_thread` (from this,
    /// the main thread). Returns whether a callback was made.
    pub fn pump_main_thread(&mut self) -> bool {
        let requested = self
            .instance
            .access_shared_handler(|s| s.callback_requested.swap(false, Ordering::SeqCst));
        if requested {
            self.instance.call_on_main_thread_callback();
            self.main_thread_callbacks += 1;
        }
        requested
    }

    /// How often the plugin called the host back, so far.
    pub fn callback_counts(&self) -> HostCallbackCounts {
        let restart_requests = self
            .instance
            .access_shared_handler(|s| s.restart_requests.load(Ordering::SeqCst));
        let (param_rescans, state_dirty, latency_changes, latency_changes_outside_activation) =
            self.instance.access_handler(|m| {
                (
                    m.param_rescans.load(Ordering::SeqCst),
                    m.state_dirty.load(Ordering::SeqCst),
                    m.latency_changes.load(Ordering::SeqCst),
                    m.latency_changes_outside_activation.load(Ordering::SeqCst),
                )
            });
        HostCallbackCounts {
            main_thread_callbacks: self.main_thread_callbacks,
            restart_requests,
            param_rescans,
            state_dirty,
            latency_changes,
            latency_changes_outside_activation,
            restarts: self.restarts,
        }
    }

    /// Note-end (voice terminated) events the plugin sent since it was loaded.
    pub fn note_ends(&self) -> u64 {
        self.note_ends
    }

    /// Whether the plugin is active, and at which `(sample_rate, max_block)`.
    pub fn activation(&self) -> Option<(f64, u32)> {
        self.audio.as_ref().map(|a| (a.sample_rate, a.max_block))
    }

    /// Activates the plugin at `sample_rate` for blocks of 1..=`max_block` frames and starts
    /// processing on the host's audio thread. Deactivates first if it was active. The steady
    /// time counter restarts at 0.
    pub fn activate(&mut self, sample_rate: f64, max_block: u32) -> Result<()> {
        if max_block == 0 {
            bail!("max_block must be at least 1");
        }
        self.deactivate()?;
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_block,
        };
        self.instance
            .access_handler(|m| m.activating.store(true, Ordering::SeqCst));
        let activated = self.instance.activate(|_, _| (), config);
        self.instance
            .access_handler(|m| m.activating.store(false, Ordering::SeqCst));
        let stopped =
            activated.map_err(|e| anyhow!("activate({sample_rate}, {max_block}) failed: {e:?}"))?;
        self.pump_main_thread();

        let input_channels: Vec<u32> = self.input_ports.iter().map(|p| p.channel_count).collect();
        let output_channels: Vec<u32> = self.output_ports.iter().map(|p| p.channel_count).collect();
        let params_ext = self.params_ext;
        let (command_tx, command_rx) = mpsc::channel::<AudioCommand>();
        let (reply_tx, reply_rx) = mpsc::channel::<AudioReply>();
        let handle = std::thread::Builder::new()
            .name("clap-audio".into())
            .spawn(move || {
                audio_thread(
                    stopped,
                    &input_channels,
                    &output_channels,
                    max_block,
                    params_ext,
                    command_rx,
                    reply_tx,
                )
            })
            .context("spawning the audio thread")?;
        self.audio = Some(AudioThread {
            commands: command_tx,
            replies: reply_rx,
            handle,
            sample_rate,
            max_block,
        });
        self.steady_time = 0;
        Ok(())
    }

    /// Makes `process` leave the plugin's `request_callback` unserved (until
    /// [`ClapHost::pump_main_thread`] or a deactivation serves it), as a busy host may: the
    /// plugin must not depend on when its main-thread callbacks run.
    pub fn defer_callbacks(&mut self, deferred: bool) {
        self.callbacks_deferred = deferred;
    }

    /// Does what a host does when the plugin has asked for a restart since the last one:
    /// deactivates it and activates it again with the same configuration. Returns whether it
    /// restarted (never while inactive: the next activation serves the request).
    pub fn restart_if_requested(&mut self) -> Result<bool> {
        let requests = self
            .instance
            .access_shared_handler(|s| s.restart_requests.load(Ordering::SeqCst));
        if requests == self.restarts_served {
            return Ok(false);
        }
        self.restarts_served = requests;
        let Some((sample_rate, max_block)) = self.activation() else {
            return Ok(false);
        };
        self.activate(sample_rate, max_block)?;
        self.restarts += 1;
        Ok(true)
    }

    /// Stops processing and deactivates the plugin (a no-op when inactive).
    pub fn deactivate(&mut self) -> Result<()> {
        let Some(audio) = self.audio.take() else {
            return Ok(());
        };
        // A send error means the thread already ended; join tells why.
        let _ = audio.commands.send(AudioCommand::Stop);
        let stopped = audio
            .handle
            .join()
            .map_err(|_| anyhow!("the audio thread panicked"))?;
        self.instance.deactivate(stopped);
        self.pump_main_thread();
        Ok(())
    }

    /// Processes one block of `frames` frames (at most the activation's `max_block`) with
    /// `events` at sample offsets inside it, and returns the stereo output (first output port).
    pub fn process(&mut self, frames: u32, events: &[Event]) -> Result<[Vec<f32>; 2]> {
        Ok(self.process_block(frames, events)?.audio)
    }

    /// Like [`ClapHost::process`], but also returns what the plugin sent back.
    pub fn process_block(&mut self, frames: u32, events: &[Event]) -> Result<BlockOutput> {
        let audio = self
            .audio
            .as_ref()
            .ok_or_else(|| anyhow!("process called while the plugin is inactive"))?;
        if frames == 0 || frames > audio.max_block {
            bail!(
                "block of {frames} frames outside 1..={} (the activation's max_block)",
                audio.max_block
            );
        }
        if let Some(e) = events.iter().find(|e| e.time() >= frames) {
            bail!("event {e:?} lies outside the block of {frames} frames");
        }
        let mut sorted = events.to_vec();
        sorted.sort_by_key(Event::time);
        audio
            .commands
            .send(AudioCommand::Process {
                frames,
                steady_time: self.steady_time,
                events: sorted,
            })
            .map_err(|_| anyhow!("audio thread is gone"))?;
        let reply = audio
            .replies
            .recv()
            .map_err(|_| anyhow!("audio thread is gone (did the plugin panic?)"))?;
        self.steady_time += u64::from(frames);
        if !self.callbacks_deferred {
            self.pump_main_thread();
        }
        let output = reply.map_err(|e| anyhow!("process failed: {e}"))?;
        self.note_ends += u64::from(output.note_ends);
        Ok(output)
    }

    /// Renders `total_frames` frames from a fresh activation at `sample_rate` with host blocks of
    /// `block_size` frames (the last block shorter). `events` carry *absolute* frame times since
    /// the start of the render; each is delivered in the block that contains it, at its offset
    /// there. The plugin stays active afterwards.
    pub fn render(
        &mut self,
        sample_rate: f64,
        block_size: u32,
        total_frames: usize,
        events: &[Event],
    ) -> Result<[Vec<f32>; 2]> {
        if let Some(e) = events.iter().find(|e| e.time() as usize >= total_frames) {
            bail!("event {e:?} lies after the render's {total_frames} frames");
        }
        self.activate(sample_rate, block_size)?;
        let mut sorted = events.to_vec();
        sorted.sort_by_key(Event::time);
        let mut out = [
            Vec::with_capacity(total_frames),
            Vec::with_capacity(total_frames),
        ];
        let mut start = 0usize;
        let mut next_event = 0usize;
        let mut block_events = Vec::new();
        while start < total_frames {
            let frames = (total_frames - start).min(block_size as usize);
            let end = start + frames;
            block_events.clear();
            while next_event < sorted.len() && (sorted[next_event].time() as usize) < end {
                let e = sorted[next_event];
                block_events.push(e.at(e.time() - start as u32));
                next_event += 1;
            }
            let [l, r] = self
                .process(frames as u32, &block_events)
                .with_context(|| format!("block at frame {start}"))?;
            out[0].extend_from_slice(&l);
            out[1].extend_from_slice(&r);
            start = end;
        }
        Ok(out)
    }
}

impl Drop for ClapHost {
    fn drop(&mut self) {
        // Errors here cannot be reported; the instance is destroyed right after.
        let _ = self.deactivate();
        self.close_editor();
    }
}

fn fill_event_buffer(buffer: &mut EventBuffer, events: &[Event]) {
    buffer.clear();
    for event in events {
        match *event {
            Event::NoteOn {
                time,
                key,
                velocity,
                note_id,
            } => buffer.push(&NoteOnEvent::new(
                time,
                Pckn::from_raw(0, 0, i16::from(key), note_id.max(-1)),
                velocity,
            )),
            Event::NoteOff { time, key, note_id } => buffer.push(&NoteOffEvent::new(
                time,
                Pckn::from_raw(0, 0, i16::from(key), note_id.max(-1)),
                0.0,
            )),
            Event::ParamValue {
                time,
                param_id,
                value,
            } => buffer.push(&ParamValueEvent::new(
                time,
                ClapId::new(param_id),
                Pckn::match_all(),
                value,
            )),
            Event::ParamMod {
                time,
                param_id,
                note_id,
                amount,
            } => buffer.push(&ParamModEvent::new(
                time,
                ClapId::new(param_id),
                Pckn::from_raw(-1, -1, -1, note_id),
                amount,
            )),
            Event::Midi { time, data } => buffer.push(&MidiEvent::new(time, 0, data)),
            Event::NoteExpression {
                time,
                key,
                channel,
                note_id,
                expression,
                value,
            } => buffer.push(&NoteExpressionEvent::new(
                time,
                Pckn::from_raw(0, channel.max(-1), key.max(-1), note_id.max(-1)),
                expression,
                value,
            )),
        }
    }
}

/// The audio thread: starts processing, serves commands until `Stop` (or the host goes away),
/// stops processing and hands the stopped processor back for deactivation.
fn audio_thread(
    stopped: StoppedPluginAudioProcessor<TestHost>,
    input_channels: &[u32],
    output_channels: &[u32],
    max_block: u32,
    params_ext: Option<PluginParams>,
    commands: mpsc::Receiver<AudioCommand>,
    replies: mpsc::Sender<AudioReply>,
) -> StoppedPluginAudioProcessor<TestHost> {
    let max = max_block as usize;
    let mut inputs: Vec<Vec<Vec<f32>>> = input_channels
        .iter()
        .map(|&n| vec![vec![0.0f32; max]; n as usize])
        .collect();
    let mut outputs: Vec<Vec<Vec<f32>>> = output_channels
        .iter()
        .map(|&n| vec![vec![0.0f32; max]; n as usize])
        .collect();
    let total_in: usize = input_channels.iter().map(|&n| n as usize).sum();
    let total_out: usize = output_channels.iter().map(|&n| n as usize).sum();
    let mut input_ports = AudioPorts::with_capacity(total_in, inputs.len());
    let mut output_ports = AudioPorts::with_capacity(total_out, outputs.len());
    let mut input_events = EventBuffer::with_capacity(1024);
    let mut output_events = EventBuffer::with_capacity(1024);

    let mut started = match stopped.start_processing() {
        Ok(started) => started,
        Err(e) => {
            let message = format!("start_processing failed: {e}");
            for command in commands.iter() {
                if matches!(command, AudioCommand::Stop) {
                    break;
                }
                let _ = replies.send(Err(message.clone()));
            }
            return e.into_stopped_processor();
        }
    };

    for command in commands.iter() {
        match command {
            AudioCommand::Stop => break,
            AudioCommand::Flush { events } => {
                fill_event_buffer(&mut input_events, &events);
                output_events.clear();
                let reply = match params_ext {
                    Some(ext) => {
                        let mut handle = started.plugin_handle();
                        ext.flush_active(
                            &mut handle,
                            &input_events.as_input(),
                            &mut output_events.as_output(),
                        );
                        Ok(BlockOutput {
                            audio: [Vec::new(), Vec::new()],
                            note_ends: 0,
                            output_events: output_events.len(),
                        })
                    }
                    None => Err("plugin has no params extension".to_string()),
                };
                let _ = replies.send(reply);
            }
            AudioCommand::Process {
                frames,
                steady_time,
                events,
            } => {
                let n = frames as usize;
                fill_event_buffer(&mut input_events, &events);
                output_events.clear();
                for channel in outputs.iter_mut().flatten() {
                    channel[..n].fill(0.0);
                }
                let audio_inputs =
                    input_ports.with_input_buffers(inputs.iter_mut().map(|port| AudioPortBuffer {
                        latency: 0,
                        channels: AudioPortBufferType::f32_input_only(
                            port.iter_mut().map(|c| InputChannel::constant(&mut c[..n])),
                        ),
                    }));
                let mut audio_outputs =
                    output_ports.with_output_buffers(outputs.iter_mut().map(|port| {
                        AudioPortBuffer {
                            latency: 0,
                            channels: AudioPortBufferType::f32_output_only(
                                port.iter_mut().map(|c| &mut c[..n]),
                            ),
                        }
                    }));
                let status = started.process(
                    &audio_inputs,
                    &mut audio_outputs,
                    &input_events.as_input(),
                    &mut output_events.as_output(),
                    Some(steady_time),
                    None,
                );
                let reply = match status {
                    Err(e) => Err(format!("{e:?}")),
                    Ok(_) => {
                        let note_ends = output_events
                            .iter()
                            .filter(|e| e.as_event::<NoteEndEvent>().is_some())
                            .count() as u32;
                        let audio = match outputs.first() {
                            Some(port) if port.len() >= 2 => {
                                [port[0][..n].to_vec(), port[1][..n].to_vec()]
                            }
                            Some(port) if port.len() == 1 => {
                                [port[0][..n].to_vec(), port[0][..n].to_vec()]
                            }
                            _ => [vec![0.0; n], vec![0.0; n]],
                        };
                        Ok(BlockOutput {
                            audio,
                            note_ends,
                            output_events: output_events.len(),
                        })
                    }
                };
                let _ = replies.send(reply);
            }
        }
    }
    started.stop_processing()
}
