//! A minimal VST3 test host on the raw `vst3` bindings: it loads a `.vst3` bundle with
//! `libloading`, reads the factory, instantiates a class, lists its parameters, sets up
//! processing, renders audio with its own event and parameter-change lists, and saves or
//! restores state through an in-memory `IBStream`.
//!
//! It only does what the integration tests need: 32-bit float processing, no audio inputs,
//! one event input bus and one stereo main output bus. Everything runs on the calling thread.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_void};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::ptr;
use std::rc::Rc;

use anyhow::{anyhow, bail, ensure, Context as _, Result};
use vst3::Steinberg::Vst::{
    AudioBusBuffers, AudioBusBuffers__type0, BusDirections_, Event as VstEvent, Event_,
    Event__type0, IAudioProcessor, IAudioProcessorTrait, IComponent, IComponentTrait,
    IConnectionPoint, IConnectionPointTrait, IEditController, IEditControllerTrait, IEventList,
    IEventListTrait, IHostApplication, IHostApplicationTrait, IMidiMapping, IMidiMappingTrait,
    IParamValueQueue, IParamValueQueueTrait, IParameterChanges, IParameterChangesTrait,
    MediaTypes_, NoteExpressionValueEvent, NoteOffEvent, NoteOnEvent, ParamID, ParamValue,
    ParameterInfo, ProcessContext, ProcessData, ProcessModes_, ProcessSetup, SpeakerArr,
    SpeakerArrangement, String128, SymbolicSampleSizes_,
};
use vst3::Steinberg::{
    int32, int64, kInvalidArgument, kResultFalse, kResultOk, tresult, FUnknown, IBStream,
    IBStreamTrait, IBStream_::IStreamSeekMode_, IPluginBaseTrait, IPluginFactory, IPluginFactory2,
    IPluginFactory2Trait, IPluginFactoryTrait, PClassInfo, PClassInfo2, PFactoryInfo, TUID,
};
use vst3::Steinberg::{kPlatformTypeX11EmbedWindowID, IPlugView, IPlugViewTrait, ViewRect};
use vst3::{Class, ComPtr, ComWrapper, Interface};

/// The category string of VST3 audio processor classes (`kVstAudioEffectClass`).
pub const AUDIO_MODULE_CLASS: &str = "Audio Module Class";

/// Reads a NUL-terminated `char8` array.
fn c_chars(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Reads a NUL-terminated UTF-16 `String128`.
fn wide(chars: &String128) -> String {
    let len = chars.iter().position(|&c| c == 0).unwrap_or(chars.len());
    String::from_utf16_lossy(&chars[..len])
}

fn check(result: tresult, what: &str) -> Result<()> {
    if result == kResultOk {
        Ok(())
    } else {
        Err(anyhow!("{what} failed with tresult {result}"))
    }
}

fn iid_ptr<I: Interface>() -> *const c_char {
    I::IID.as_ptr() as *const c_char
}

/// One class that a plugin factory offers (from `IPluginFactory2::getClassInfo2`, or
/// `getClassInfo` when the factory has no `IPluginFactory2`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassInfo {
    /// Class id, as the 16 bytes of the `TUID`.
    pub cid: [u8; 16],
    /// Class category, e.g. [`AUDIO_MODULE_CLASS`].
    pub category: String,
    /// Class name shown to users.
    pub name: String,
    /// Subcategories split at `|`, e.g. `["Instrument", "Synth"]`; empty without
    /// `IPluginFactory2`.
    pub subcategories: Vec<String>,
    /// Vendor string (empty without `IPluginFactory2`).
    pub vendor: String,
    /// Version string (empty without `IPluginFactory2`).
    pub version: String,
}

/// One parameter as the edit controller describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// Parameter id used in parameter changes and controller calls.
    pub id: ParamID,
    /// Full title.
    pub title: String,
    /// Unit label.
    pub units: String,
    /// 0 for continuous parameters, otherwise the number of steps (states − 1).
    pub step_count: i32,
    /// Default value, normalized to 0..1.
    pub default_normalized: f64,
    /// `ParameterInfo::flags` bits.
    pub flags: i32,
}

/// An input event for [`Vst3Instance::process`] and [`Vst3Instance::render`]. `offset` is the
/// sample offset in the processed span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// A note starts: MIDI key and velocity 0..1.
    NoteOn {
        /// Sample offset.
        offset: u32,
        /// MIDI key number.
        key: u8,
        /// Velocity 0..1.
        velocity: f32,
    },
    /// A note is released.
    NoteOff {
        /// Sample offset.
        offset: u32,
        /// MIDI key number.
        key: u8,
        /// Release velocity 0..1.
        velocity: f32,
    },
    /// A note expression value for the sounding note of `key` (the host gives each note the
    /// id of its key), with VST3's type id (0 volume, 1 pan, 2 tuning) and normalized value.
    NoteExpression {
        /// Sample offset.
        offset: u32,
        /// MIDI key number of the note.
        key: u8,
        /// `NoteExpressionTypeIDs` value.
        type_id: u32,
        /// Normalized value 0..1.
        value: f64,
    },
    /// A parameter takes a normalized value at this offset (sent through
    /// `inputParameterChanges`).
    Param {
        /// Sample offset.
        offset: u32,
        /// Parameter id (see [`ParamInfo::id`]).
        id: ParamID,
        /// Normalized value 0..1.
        value: f64,
    },
}

impl Event {
    /// The event's sample offset.
    pub fn offset(&self) -> u32 {
        match *self {
            Event::NoteOn { offset, .. }
            | Event::NoteOff { offset, .. }
            | Event::NoteExpression { offset, .. }
            | Event::Param { offset, .. } => offset,
        }
    }

    /// The same event moved to another offset.
    pub fn at(mut self, new_offset: u32) -> Event {
        match &mut self {
            Event::NoteOn { offset, .. }
            | Event::NoteOff { offset, .. }
            | Event::NoteExpression { offset, .. }
            | Event::Param { offset, .. } => *offset = new_offset,
        }
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Host-side COM objects
// ---------------------------------------------------------------------------------------------

/// The host context passed to `initialize`: a minimal `IHostApplication`.
struct HostApplication;

impl Class for HostApplication {
    type Interfaces = (IHostApplication,);
}

impl IHostApplicationTrait for HostApplication {
    unsafe fn getName(&self, name: *mut String128) -> tresult {
        if name.is_null() {
            return kInvalidArgument;
        }
        let name = &mut *name;
        name.fill(0);
        for (dst, src) in name.iter_mut().zip("Sirenade test host".encode_utf16()) {
            *dst = src;
        }
        kResultOk
    }

    unsafe fn createInstance(
        &self,
        _cid: *mut TUID,
        _iid: *mut TUID,
        obj: *mut *mut c_void,
    ) -> tresult {
        if !obj.is_null() {
            *obj = ptr::null_mut();
        }
        kResultFalse
    }
}

/// An `IEventList` the host fills before `process` (input) or the plugin fills (output).
struct EventList {
    events: RefCell<Vec<VstEvent>>,
}

impl EventList {
    fn new() -> Self {
        EventList {
            events: RefCell::new(Vec::with_capacity(1024)),
        }
    }
}

impl Class for EventList {
    type Interfaces = (IEventList,);
}

impl IEventListTrait for EventList {
    unsafe fn getEventCount(&self) -> int32 {
        self.events.borrow().len() as int32
    }

    unsafe fn getEvent(&self, index: int32, e: *mut VstEvent) -> tresult {
        let events = self.events.borrow();
        match (
            usize::try_from(index).ok().and_then(|i| events.get(i)),
            e.is_null(),
        ) {
            (Some(event), false) => {
                *e = *event;
                kResultOk
            }
            _ => kInvalidArgument,
        }
    }

    unsafe fn addEvent(&self, e: *mut VstEvent) -> tresult {
        if e.is_null() {
            return kInvalidArgument;
        }
        self.events.borrow_mut().push(*e);
        kResultOk
    }
}

/// One parameter's points within a block.
struct ParamQueue {
    id: ParamID,
    points: RefCell<Vec<(int32, ParamValue)>>,
}

impl Class for ParamQueue {
    type Interfaces = (IParamValueQueue,);
}

impl IParamValueQueueTrait for ParamQueue {
    unsafe fn getParameterId(&self) -> ParamID {
        self.id
    }

    unsafe fn getPointCount(&self) -> int32 {
        self.points.borrow().len() as int32
    }

    unsafe fn getPoint(
        &self,
        index: int32,
        sample_offset: *mut int32,
        value: *mut ParamValue,
    ) -> tresult {
        let points = self.points.borrow();
        match usize::try_from(index).ok().and_then(|i| points.get(i)) {
            Some(&(offset, v)) if !sample_offset.is_null() && !value.is_null() => {
                *sample_offset = offset;
                *value = v;
                kResultOk
            }
            _ => kInvalidArgument,
        }
    }

    unsafe fn addPoint(
        &self,
        sample_offset: int32,
        value: ParamValue,
        index: *mut int32,
    ) -> tresult {
        let mut points = self.points.borrow_mut();
        // Points are kept sorted by offset; a point at an existing offset replaces it.
        let i = points.partition_point(|&(o, _)| o < sample_offset);
        if points.get(i).is_some_and(|&(o, _)| o == sample_offset) {
            points[i].1 = value;
        } else {
            points.insert(i, (sample_offset, value));
        }
        if !index.is_null() {
            *index = i as int32;
        }
        kResultOk
    }
}

/// An `IParameterChanges`: one queue per parameter id.
struct ParamChanges {
    queues: RefCell<Vec<ComWrapper<ParamQueue>>>,
}

impl ParamChanges {
    fn new() -> Self {
        ParamChanges {
            queues: RefCell::new(Vec::with_capacity(64)),
        }
    }

    fn clear(&self) {
        self.queues.borrow_mut().clear();
    }

    /// The queue for `id`, created if needed; returns its index.
    fn queue(&self, id: ParamID) -> (usize, *mut IParamValueQueue) {
        let mut queues = self.queues.borrow_mut();
        let index = match queues.iter().position(|q| q.id == id) {
            Some(i) => i,
            None => {
                queues.push(ComWrapper::new(ParamQueue {
                    id,
                    points: RefCell::new(Vec::with_capacity(16)),
                }));
                queues.len() - 1
            }
        };
        let ptr = queues[index]
            .as_com_ref::<IParamValueQueue>()
            .expect("ParamQueue implements IParamValueQueue")
            .as_ptr();
        (index, ptr)
    }

    fn add_point(&self, id: ParamID, offset: int32, value: ParamValue) {
        let (_, queue) = self.queue(id);
        // SAFETY: `queue` points into a live ComWrapper owned by `self.queues`.
        unsafe {
            ((*(*queue).vtbl).addPoint)(queue, offset, value, ptr::null_mut());
        }
    }
}

impl Class for ParamChanges {
    type Interfaces = (IParameterChanges,);
}

impl IParameterChangesTrait for ParamChanges {
    unsafe fn getParameterCount(&self) -> int32 {
        self.queues.borrow().len() as int32
    }

    unsafe fn getParameterData(&self, index: int32) -> *mut IParamValueQueue {
        let queues = self.queues.borrow();
        match usize::try_from(index).ok().and_then(|i| queues.get(i)) {
            Some(queue) => queue
                .as_com_ref::<IParamValueQueue>()
                .map_or(ptr::null_mut(), |q| q.as_ptr()),
            None => ptr::null_mut(),
        }
    }

    unsafe fn addParameterData(
        &self,
        id: *const ParamID,
        index: *mut int32,
    ) -> *mut IParamValueQueue {
        if id.is_null() {
            return ptr::null_mut();
        }
        let (i, queue) = self.queue(*id);
        if !index.is_null() {
            *index = i as int32;
        }
        queue
    }
}

/// An in-memory `IBStream` for `getState`/`setState`.
struct MemoryStream {
    data: RefCell<Vec<u8>>,
    pos: Cell<usize>,
}

impl Class for MemoryStream {
    type Interfaces = (IBStream,);
}

impl IBStreamTrait for MemoryStream {
    unsafe fn read(
        &self,
        buffer: *mut c_void,
        num_bytes: int32,
        num_bytes_read: *mut int32,
    ) -> tresult {
        if buffer.is_null() || num_bytes < 0 {
            return kInvalidArgument;
        }
        let data = self.data.borrow();
        let pos = self.pos.get().min(data.len());
        let n = (num_bytes as usize).min(data.len() - pos);
        ptr::copy_nonoverlapping(data.as_ptr().add(pos), buffer as *mut u8, n);
        self.pos.set(pos + n);
        if !num_bytes_read.is_null() {
            *num_bytes_read = n as int32;
        }
        kResultOk
    }

    unsafe fn write(
        &self,
        buffer: *mut c_void,
        num_bytes: int32,
        num_bytes_written: *mut int32,
    ) -> tresult {
        if buffer.is_null() || num_bytes < 0 {
            return kInvalidArgument;
        }
        let n = num_bytes as usize;
        let bytes = std::slice::from_raw_parts(buffer as *const u8, n);
        let mut data = self.data.borrow_mut();
        let pos = self.pos.get();
        if data.len() < pos + n {
            data.resize(pos + n, 0);
        }
        data[pos..pos + n].copy_from_slice(bytes);
        self.pos.set(pos + n);
        if !num_bytes_written.is_null() {
            *num_bytes_written = num_bytes;
        }
        kResultOk
    }

    unsafe fn seek(&self, pos: int64, mode: int32, result: *mut int64) -> tresult {
        let base = match mode {
            m if m == IStreamSeekMode_::kIBSeekSet as int32 => 0,
            m if m == IStreamSeekMode_::kIBSeekCur as int32 => self.pos.get() as int64,
            m if m == IStreamSeekMode_::kIBSeekEnd as int32 => self.data.borrow().len() as int64,
            _ => return kInvalidArgument,
        };
        let new_pos = base + pos;
        if new_pos < 0 {
            return kInvalidArgument;
        }
        self.pos.set(new_pos as usize);
        if !result.is_null() {
            *result = new_pos;
        }
        kResultOk
    }

    unsafe fn tell(&self, pos: *mut int64) -> tresult {
        if pos.is_null() {
            return kInvalidArgument;
        }
        *pos = self.pos.get() as int64;
        kResultOk
    }
}

// ---------------------------------------------------------------------------------------------
// Module
// ---------------------------------------------------------------------------------------------

type ModuleEntryFn = unsafe extern "C" fn(*mut c_void) -> bool;
type ModuleExitFn = unsafe extern "C" fn() -> bool;
type GetPluginFactoryFn = unsafe extern "system" fn() -> *mut c_void;

struct ModuleInner {
    // Field order is drop order: the factory is released before `ModuleExit` and unloading.
    factory: Option<ComPtr<IPluginFactory>>,
    library: Option<libloading::Library>,
    entered: bool,
}

impl Drop for ModuleInner {
    fn drop(&mut self) {
        self.factory.take();
        if let Some(library) = self.library.take() {
            if self.entered {
                // SAFETY: symbol type as the VST3 Linux module convention defines it.
                unsafe {
                    if let Ok(exit) = library.get::<ModuleExitFn>(b"ModuleExit\0") {
                        exit();
                    }
                }
            }
            drop(library);
        }
    }
}

/// A loaded VST3 module (`.vst3` bundle): its library, entry calls and plugin factory.
/// Instances keep the module alive; `ModuleExit` runs and the library unloads when the module
/// and all its instances are dropped.
pub struct Vst3Module {
    inner: Rc<ModuleInner>,
    path: PathBuf,
}

/// The shared library inside a bundle: `Bundle.vst3/Contents/x86_64-linux/<Name>.so`, or the
/// path itself when it is a file.
pub fn bundle_binary(bundle: &Path) -> Result<PathBuf> {
    if bundle.is_file() {
        return Ok(bundle.to_path_buf());
    }
    let stem = bundle
        .file_stem()
        .and_then(|s| s.to_str())
        .with_context(|| format!("bundle path {} has no name", bundle.display()))?;
    let binary = bundle
        .join("Contents")
        .join("x86_64-linux")
        .join(format!("{stem}.so"));
    ensure!(binary.is_file(), "{} not found", binary.display());
    Ok(binary)
}

impl Vst3Module {
    /// Loads a `.vst3` bundle (or its `.so` directly): opens the library, calls `ModuleEntry`
    /// when exported, then `GetPluginFactory`.
    pub fn load(bundle: &Path) -> Result<Self> {
        let path = bundle_binary(bundle)?;
        // SAFETY: loading a plugin runs its initialisers; that is what a host does.
        let unix_lib = unsafe {
            libloading::os::unix::Library::open(
                Some(&path),
                libloading::os::unix::RTLD_LAZY | libloading::os::unix::RTLD_LOCAL,
            )
        }
        .with_context(|| format!("loading {}", path.display()))?;
        let handle = unix_lib.into_raw();
        // SAFETY: `handle` came from `into_raw` just above.
        let library: libloading::Library =
            unsafe { libloading::os::unix::Library::from_raw(handle) }.into();

        let mut inner = ModuleInner {
            factory: None,
            library: None,
            entered: false,
        };
        // SAFETY: symbol types as the VST3 module convention defines them.
        unsafe {
            if let Ok(entry) = library.get::<ModuleEntryFn>(b"ModuleEntry\0") {
                ensure!(entry(handle), "ModuleEntry returned false");
                inner.entered = true;
            }
            let get_factory = library
                .get::<GetPluginFactoryFn>(b"GetPluginFactory\0")
                .context("the module exports no GetPluginFactory")?;
            let raw = get_factory();
            inner.library = Some(library);
            inner.factory = Some(
                ComPtr::from_raw(raw as *mut IPluginFactory)
                    .context("GetPluginFactory returned null")?,
            );
        }
        Ok(Vst3Module {
            inner: Rc::new(inner),
            path,
        })
    }

    /// The shared library that was loaded.
    pub fn binary_path(&self) -> &Path {
        &self.path
    }

    fn factory(&self) -> &ComPtr<IPluginFactory> {
        self.inner
            .factory
            .as_ref()
            .expect("factory lives as long as the module")
    }

    /// The factory's vendor, url and email (`getFactoryInfo`).
    pub fn factory_info(&self) -> Result<(String, String, String)> {
        let mut info = MaybeUninit::<PFactoryInfo>::zeroed();
        // SAFETY: valid out-pointer.
        check(
            unsafe { self.factory().getFactoryInfo(info.as_mut_ptr()) },
            "getFactoryInfo",
        )?;
        // SAFETY: zero-initialised POD written by the plugin.
        let info = unsafe { info.assume_init() };
        Ok((
            c_chars(&info.vendor),
            c_chars(&info.url),
            c_chars(&info.email),
        ))
    }

    /// All classes of the factory, with subcategories when it implements `IPluginFactory2`.
    pub fn classes(&self) -> Result<Vec<ClassInfo>> {
        let factory = self.factory();
        let factory2 = factory.cast::<IPluginFactory2>();
        // SAFETY: plain factory calls with valid out-pointers.
        let count = unsafe { factory.countClasses() };
        let mut classes = Vec::new();
        for index in 0..count {
            let info = if let Some(f2) = &factory2 {
                let mut info = MaybeUninit::<PClassInfo2>::zeroed();
                check(
                    unsafe { f2.getClassInfo2(index, info.as_mut_ptr()) },
                    "getClassInfo2",
                )?;
                let info = unsafe { info.assume_init() };
                let subs = c_chars(&info.subCategories);
                ClassInfo {
                    cid: info.cid.map(|b| b as u8),
                    category: c_chars(&info.category),
                    name: c_chars(&info.name),
                    subcategories: subs
                        .split('|')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    vendor: c_chars(&info.vendor),
                    version: c_chars(&info.version),
                }
            } else {
                let mut info = MaybeUninit::<PClassInfo>::zeroed();
                check(
                    unsafe { factory.getClassInfo(index, info.as_mut_ptr()) },
                    "getClassInfo",
                )?;
                let info = unsafe { info.assume_init() };
                ClassInfo {
                    cid: info.cid.map(|b| b as u8),
                    category: c_chars(&info.category),
                    name: c_chars(&info.name),
                    subcategories: Vec::new(),
                    vendor: String::new(),
                    version: String::new(),
                }
            };
            classes.push(info);
        }
        Ok(classes)
    }

    fn create<I: Interface>(&self, cid: &[u8; 16]) -> Result<ComPtr<I>> {
        let mut obj: *mut c_void = ptr::null_mut();
        // SAFETY: cid and iid point to 16 bytes each; `obj` is a valid out-pointer.
        let result = unsafe {
            self.factory()
                .createInstance(cid.as_ptr() as *const c_char, iid_ptr::<I>(), &mut obj)
        };
        check(result, "createInstance")?;
        // SAFETY: the factory returned an add-ref'd pointer of the requested interface.
        unsafe { ComPtr::from_raw(obj as *mut I) }.context("createInstance returned null")
    }

    /// Instantiates the first [`AUDIO_MODULE_CLASS`] class.
    pub fn instantiate_first(&self) -> Result<Vst3Instance> {
        let class = self
            .classes()?
            .into_iter()
            .find(|c| c.category == AUDIO_MODULE_CLASS)
            .context("the factory has no Audio Module Class")?;
        self.instantiate(&class.cid)
    }

    /// Creates the component of class `cid`, queries `IAudioProcessor`, finds the edit
    /// controller (the same object, or a separate class from `getControllerClassId`),
    /// initialises both with a host context and connects them when separate.
    pub fn instantiate(&self, cid: &[u8; 16]) -> Result<Vst3Instance> {
        let host = ComWrapper::new(HostApplication);
        let host_unknown = host
            .to_com_ptr::<FUnknown>()
            .context("host context as FUnknown")?;
        let component: ComPtr<IComponent> = self.create(cid)?;
        // SAFETY: the component is alive; the host context outlives the instance.
        check(
            unsafe { component.initialize(host_unknown.as_ptr()) },
            "IComponent::initialize",
        )?;
        let mut instance = Vst3Instance {
            processor: None,
            controller: None,
            separate_controller: false,
            connected: None,
            component: Some(component),
            _host: host,
            _module: self.inner.clone(),
            active: false,
            processing: false,
            setup: None,
            events_in: ComWrapper::new(EventList::new()),
            events_out: ComWrapper::new(EventList::new()),
            params_in: ComWrapper::new(ParamChanges::new()),
            params_out: ComWrapper::new(ParamChanges::new()),
            outputs: [Vec::new(), Vec::new()],
            project_time: 0,
        };
        let component = instance.component.as_ref().expect("just set");
        instance.processor = Some(
            component
                .cast::<IAudioProcessor>()
                .context("the component has no IAudioProcessor")?,
        );

        if let Some(controller) = component.cast::<IEditController>() {
            instance.controller = Some(controller);
        } else {
            let mut controller_cid: TUID = [0; 16];
            // SAFETY: valid out-pointer.
            let result = unsafe { component.getControllerClassId(&mut controller_cid) };
            if result == kResultOk {
                let controller: ComPtr<IEditController> =
                    self.create(&controller_cid.map(|b| b as u8))?;
                // SAFETY: as for the component.
                check(
                    unsafe { controller.initialize(host_unknown.as_ptr()) },
                    "IEditController::initialize",
                )?;
                instance.separate_controller = true;
                if let (Some(a), Some(b)) = (
                    component.cast::<IConnectionPoint>(),
                    controller.cast::<IConnectionPoint>(),
                ) {
                    // SAFETY: both connection points are alive until `disconnect` in teardown.
                    unsafe {
                        a.connect(b.as_ptr());
                        b.connect(a.as_ptr());
                    }
                    instance.connected = Some((a, b));
                }
                instance.controller = Some(controller);
            }
        }
        Ok(instance)
    }
}

// ---------------------------------------------------------------------------------------------
// Instance
// ---------------------------------------------------------------------------------------------

/// A plugin's editor attached to a host window; detached (`removed`) when dropped.
pub struct Vst3Editor {
    view: ComPtr<IPlugView>,
}

impl Vst3Editor {
    /// The size the view asks for (`getSize`), width and height in pixels.
    pub fn size(&self) -> Result<(i32, i32)> {
        let mut rect = ViewRect {
            left: 0,
            top: 0,
            right: 0,
            bottom: 0,
        };
        check(
            unsafe { self.view.getSize(&mut rect) },
            "IPlugView::getSize",
        )?;
        Ok((rect.right - rect.left, rect.bottom - rect.top))
    }
}

impl Drop for Vst3Editor {
    fn drop(&mut self) {
        // A failure cannot be reported here; the view is released right after.
        let _ = unsafe { self.view.removed() };
    }
}

/// One plugin instance: component, audio processor and edit controller, plus the host-side
/// buffers and lists used by [`Vst3Instance::process`]. Dropping it tears down in order
/// (setProcessing(false), setActive(false), disconnect, terminate, release).
pub struct Vst3Instance {
    // Released in `Drop` in this order.
    processor: Option<ComPtr<IAudioProcessor>>,
    controller: Option<ComPtr<IEditController>>,
    separate_controller: bool,
    connected: Option<(ComPtr<IConnectionPoint>, ComPtr<IConnectionPoint>)>,
    component: Option<ComPtr<IComponent>>,
    _host: ComWrapper<HostApplication>,
    _module: Rc<ModuleInner>,
    active: bool,
    processing: bool,
    setup: Option<(f64, usize, i32)>,
    events_in: ComWrapper<EventList>,
    events_out: ComWrapper<EventList>,
    params_in: ComWrapper<ParamChanges>,
    params_out: ComWrapper<ParamChanges>,
    outputs: [Vec<f32>; 2],
    project_time: i64,
}

impl Vst3Instance {
    fn component(&self) -> &ComPtr<IComponent> {
        self.component.as_ref().expect("component lives until drop")
    }

    fn processor(&self) -> &ComPtr<IAudioProcessor> {
        self.processor.as_ref().expect("processor lives until drop")
    }

    /// The controller's editor (`createView("editor")`) attached to the X11 window `parent`
    /// (`X11EmbedWindowID`). The window must stay open while the returned view lives.
    pub fn open_editor_x11(&self, parent: u32) -> Result<Vst3Editor> {
        let raw = unsafe {
            self.controller()?
                .createView(vst3::Steinberg::Vst::ViewType::kEditor)
        };
        // SAFETY: createView returns an owned reference or null.
        let view = unsafe { ComPtr::<IPlugView>::from_raw(raw) }
            .context("createView(\"editor\") returned no view")?;
        check(
            unsafe { view.isPlatformTypeSupported(kPlatformTypeX11EmbedWindowID) },
            "IPlugView::isPlatformTypeSupported(X11EmbedWindowID)",
        )?;
        check(
            unsafe {
                view.attached(
                    parent as usize as *mut c_void,
                    kPlatformTypeX11EmbedWindowID,
                )
            },
            "IPlugView::attached",
        )?;
        Ok(Vst3Editor { view })
    }

    /// The edit controller (an error when the plugin has none).
    fn controller(&self) -> Result<&ComPtr<IEditController>> {
        self.controller
            .as_ref()
            .context("the plugin has no IEditController")
    }

    /// The parameter a host sends MIDI controller `controller` (0..=127, 128 aftertouch, 129
    /// pitch bend: `ControllerNumbers`) of `channel` to, as the plugin's `IMidiMapping` says.
    pub fn midi_controller_param(&self, channel: i16, controller: i16) -> Result<ParamID> {
        let mapping = self
            .controller()?
            .cast::<IMidiMapping>()
            .context("the controller has no IMidiMapping")?;
        let mut id: ParamID = 0;
        // SAFETY: a plain query with a valid out-pointer.
        let result =
            unsafe { mapping.getMidiControllerAssignment(0, channel, controller, &mut id) };
        check(result, "getMidiControllerAssignment")?;
        Ok(id)
    }

    /// Whether the edit controller is a separate object (`getControllerClassId`).
    pub fn has_separate_controller(&self) -> bool {
        self.separate_controller
    }

    /// Number of buses of a media type (`MediaTypes_::kAudio`/`kEvent`) and direction
    /// (`BusDirections_::kInput`/`kOutput`), and their channel counts.
    pub fn bus_channel_counts(&self, media_type: u32, direction: u32) -> Vec<i32> {
        let component = self.component();
        // SAFETY: plain queries with valid out-pointers.
        unsafe {
            let count = component.getBusCount(media_type as _, direction as _);
            (0..count)
                .map(|i| {
                    let mut info = MaybeUninit::zeroed();
                    if component.getBusInfo(media_type as _, direction as _, i, info.as_mut_ptr())
                        == kResultOk
                    {
                        let info: vst3::Steinberg::Vst::BusInfo = info.assume_init();
                        info.channelCount
                    } else {
                        -1
                    }
                })
                .collect()
        }
    }

    /// All parameters (`getParameterCount`/`getParameterInfo`).
    pub fn params(&self) -> Result<Vec<ParamInfo>> {
        let controller = self.controller()?;
        // SAFETY: plain queries with valid out-pointers.
        let count = unsafe { controller.getParameterCount() };
        let mut params = Vec::with_capacity(count.max(0) as usize);
        for index in 0..count {
            let mut info = MaybeUninit::<ParameterInfo>::zeroed();
            check(
                unsafe { controller.getParameterInfo(index, info.as_mut_ptr()) },
                "getParameterInfo",
            )?;
            let info = unsafe { info.assume_init() };
            params.push(ParamInfo {
                id: info.id,
                title: wide(&info.title),
                units: wide(&info.units),
                step_count: info.stepCount,
                default_normalized: info.defaultNormalizedValue,
                flags: info.flags,
            });
        }
        Ok(params)
    }

    /// The parameter with this title.
    pub fn param_by_title(&self, title: &str) -> Result<ParamInfo> {
        self.params()?
            .into_iter()
            .find(|p| p.title == title)
            .with_context(|| format!("no parameter titled {title:?}"))
    }

    /// The controller's current normalized value (`getParamNormalized`).
    pub fn param_normalized(&self, id: ParamID) -> Result<f64> {
        // SAFETY: plain query.
        Ok(unsafe { self.controller()?.getParamNormalized(id) })
    }

    /// Sets a value on the controller side (`setParamNormalized`); audio-side changes go through
    /// [`Event::Param`].
    pub fn set_param_normalized(&self, id: ParamID, value: f64) -> Result<()> {
        // SAFETY: plain call.
        check(
            unsafe { self.controller()?.setParamNormalized(id, value) },
            "setParamNormalized",
        )
    }

    /// The plain value of a normalized value (`normalizedParamToPlain`).
    pub fn normalized_to_plain(&self, id: ParamID, normalized: f64) -> Result<f64> {
        // SAFETY: plain query.
        Ok(unsafe { self.controller()?.normalizedParamToPlain(id, normalized) })
    }

    /// The normalized value of a plain value (`plainParamToNormalized`).
    pub fn plain_to_normalized(&self, id: ParamID, plain: f64) -> Result<f64> {
        // SAFETY: plain query.
        Ok(unsafe { self.controller()?.plainParamToNormalized(id, plain) })
    }

    /// The display string of a normalized value (`getParamStringByValue`).
    pub fn param_display(&self, id: ParamID, normalized: f64) -> Result<String> {
        let mut text: String128 = [0; 128];
        // SAFETY: valid out-pointer.
        check(
            unsafe {
                self.controller()?
                    .getParamStringByValue(id, normalized, &mut text)
            },
            "getParamStringByValue",
        )?;
        Ok(wide(&text))
    }

    /// Prepares processing: stereo-output bus arrangement, activates the event input and audio
    /// output buses, `setupProcessing` (32-bit; offline or realtime mode), `setActive(true)`,
    /// `setProcessing(true)`. Allocates the output buffers for `max_block` frames.
    pub fn setup(&mut self, sample_rate: f64, max_block: usize, offline: bool) -> Result<()> {
        ensure!(!self.active, "setup called twice");
        ensure!(max_block > 0, "max_block must be positive");
        let component = self.component().clone();
        let processor = self.processor().clone();
        let audio = MediaTypes_::kAudio as i32;
        let event = MediaTypes_::kEvent as i32;
        let input = BusDirections_::kInput as i32;
        let output = BusDirections_::kOutput as i32;
        let mode = if offline {
            ProcessModes_::kOffline as i32
        } else {
            ProcessModes_::kRealtime as i32
        };
        // SAFETY: plain setup calls with valid pointers (a dummy input pointer for zero inputs).
        unsafe {
            let mut no_input: SpeakerArrangement = 0;
            let mut stereo: SpeakerArrangement = SpeakerArr::kStereo;
            check(
                processor.setBusArrangements(&mut no_input, 0, &mut stereo, 1),
                "setBusArrangements",
            )?;
            if component.getBusCount(event as _, input as _) > 0 {
                check(
                    component.activateBus(event as _, input as _, 0, 1),
                    "activateBus(event input)",
                )?;
            }
            ensure!(
                component.getBusCount(audio as _, output as _) > 0,
                "the plugin has no audio output bus"
            );
            check(
                component.activateBus(audio as _, output as _, 0, 1),
                "activateBus(audio output)",
            )?;
            check(
                processor.canProcessSampleSize(SymbolicSampleSizes_::kSample32 as i32),
                "canProcessSampleSize(32)",
            )?;
            let mut setup = ProcessSetup {
                processMode: mode,
                symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
                maxSamplesPerBlock: max_block as i32,
                sampleRate: sample_rate,
            };
            check(processor.setupProcessing(&mut setup), "setupProcessing")?;
            check(component.setActive(1), "setActive(true)")?;
            self.active = true;
            check(processor.setProcessing(1), "setProcessing(true)")?;
            self.processing = true;
        }
        self.outputs = [vec![0.0; max_block], vec![0.0; max_block]];
        self.setup = Some((sample_rate, max_block, mode));
        Ok(())
    }

    /// Processes one block of `frames` (at most the `max_block` given to [`Self::setup`]) with
    /// these events (offsets within the block) and returns the stereo output. Note events go
    /// through `inputEvents`, parameter changes through `inputParameterChanges`; the output
    /// event and parameter lists are non-null and discarded.
    pub fn process(&mut self, frames: usize, events: &[Event]) -> Result<[Vec<f32>; 2]> {
        let (sample_rate, max_block, mode) = self.setup.context("process before setup")?;
        ensure!(
            frames <= max_block,
            "{frames} frames > max block {max_block}"
        );

        let mut vst_events: Vec<(u32, VstEvent)> = Vec::new();
        self.params_in.clear();
        self.params_out.clear();
        self.events_out.events.borrow_mut().clear();
        for event in events {
            ensure!(
                (event.offset() as usize) < frames.max(1),
                "event offset {} outside a block of {frames}",
                event.offset()
            );
            // SAFETY: zeroed POD, then the union member for the type is written.
            let mut e: VstEvent = unsafe { std::mem::zeroed() };
            e.busIndex = 0;
            e.sampleOffset = event.offset() as i32;
            e.flags = Event_::EventFlags_::kIsLive as u16;
            match *event {
                Event::NoteOn { key, velocity, .. } => {
                    e.r#type = Event_::EventTypes_::kNoteOnEvent as u16;
                    e.__field0 = Event__type0 {
                        noteOn: NoteOnEvent {
                            channel: 0,
                            pitch: key as i16,
                            tuning: 0.0,
                            velocity,
                            length: 0,
                            noteId: i32::from(key),
                        },
                    };
                }
                Event::NoteOff { key, velocity, .. } => {
                    e.r#type = Event_::EventTypes_::kNoteOffEvent as u16;
                    e.__field0 = Event__type0 {
                        noteOff: NoteOffEvent {
                            channel: 0,
                            pitch: key as i16,
                            velocity,
                            noteId: i32::from(key),
                            tuning: 0.0,
                        },
                    };
                }
                Event::NoteExpression {
                    key,
                    type_id,
                    value,
                    ..
                } => {
                    e.r#type = Event_::EventTypes_::kNoteExpressionValueEvent as u16;
                    e.__field0 = Event__type0 {
                        noteExpressionValue: NoteExpressionValueEvent {
                            typeId: type_id,
                            noteId: i32::from(key),
                            value,
                        },
                    };
                }
                Event::Param { offset, id, value } => {
                    self.params_in.add_point(id, offset as i32, value);
                    continue;
                }
            }
            vst_events.push((event.offset(), e));
        }
        // Events must be sorted by sample offset; the sort is stable so same-offset events keep
        // their order.
        vst_events.sort_by_key(|(offset, _)| *offset);
        {
            let mut list = self.events_in.events.borrow_mut();
            list.clear();
            list.extend(vst_events.into_iter().map(|(_, e)| e));
        }

        for channel in &mut self.outputs {
            channel[..frames].fill(0.0);
        }
        let mut channel_ptrs: [*mut f32; 2] =
            [self.outputs[0].as_mut_ptr(), self.outputs[1].as_mut_ptr()];
        let mut output_bus = AudioBusBuffers {
            numChannels: 2,
            silenceFlags: 0,
            __field0: AudioBusBuffers__type0 {
                channelBuffers32: channel_ptrs.as_mut_ptr(),
            },
        };
        // SAFETY: all-POD struct.
        let mut context: ProcessContext = unsafe { std::mem::zeroed() };
        context.sampleRate = sample_rate;
        context.projectTimeSamples = self.project_time;
        context.continousTimeSamples = self.project_time;
        context.tempo = 120.0;
        context.timeSigNumerator = 4;
        context.timeSigDenominator = 4;
        context.state = vst3::Steinberg::Vst::ProcessContext_::StatesAndFlags_::kTempoValid
            | vst3::Steinberg::Vst::ProcessContext_::StatesAndFlags_::kTimeSigValid;

        let as_ptr = |w: &ComWrapper<ParamChanges>| {
            w.as_com_ref::<IParameterChanges>()
                .expect("ParamChanges implements IParameterChanges")
                .as_ptr()
        };
        let as_events = |w: &ComWrapper<EventList>| {
            w.as_com_ref::<IEventList>()
                .expect("EventList implements IEventList")
                .as_ptr()
        };
        let mut data = ProcessData {
            processMode: mode,
            symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
            numSamples: frames as i32,
            numInputs: 0,
            numOutputs: 1,
            inputs: ptr::null_mut(),
            outputs: &mut output_bus,
            inputParameterChanges: as_ptr(&self.params_in),
            outputParameterChanges: as_ptr(&self.params_out),
            inputEvents: as_events(&self.events_in),
            outputEvents: as_events(&self.events_out),
            processContext: &mut context,
        };
        // SAFETY: every pointer in `data` lives until the call returns.
        let result = unsafe { self.processor().process(&mut data) };
        check(result, "process")?;
        self.project_time += frames as i64;
        Ok([
            self.outputs[0][..frames].to_vec(),
            self.outputs[1][..frames].to_vec(),
        ])
    }

    /// Renders `total` frames in blocks of the `max_block` given to [`Self::setup`], routing
    /// each event (offsets from the start of the render) to the block it falls in.
    pub fn render(&mut self, total: usize, events: &[Event]) -> Result<[Vec<f32>; 2]> {
        let (_, max_block, _) = self.setup.context("render before setup")?;
        if let Some(e) = events.iter().find(|e| e.offset() as usize >= total) {
            bail!("event {e:?} lies after the {total} rendered frames");
        }
        let mut out = [Vec::with_capacity(total), Vec::with_capacity(total)];
        let mut start = 0usize;
        while start < total {
            let frames = max_block.min(total - start);
            let block_events: Vec<Event> = events
                .iter()
                .filter(|e| {
                    let o = e.offset() as usize;
                    o >= start && o < start + frames
                })
                .map(|e| e.at(e.offset() - start as u32))
                .collect();
            let [l, r] = self.process(frames, &block_events)?;
            out[0].extend_from_slice(&l);
            out[1].extend_from_slice(&r);
            start += frames;
        }
        Ok(out)
    }

    /// The component state (`IComponent::getState`) written to a memory stream.
    pub fn get_state(&self) -> Result<Vec<u8>> {
        let stream = ComWrapper::new(MemoryStream {
            data: RefCell::new(Vec::new()),
            pos: Cell::new(0),
        });
        let ptr = stream
            .as_com_ref::<IBStream>()
            .expect("MemoryStream implements IBStream")
            .as_ptr();
        // SAFETY: the stream lives until the call returns.
        check(
            unsafe { self.component().getState(ptr) },
            "IComponent::getState",
        )?;
        let data = stream.data.borrow().clone();
        Ok(data)
    }

    /// Restores a state from [`Self::get_state`]: `IComponent::setState`, then
    /// `IEditController::setComponentState` on the controller.
    pub fn set_state(&self, state: &[u8]) -> Result<()> {
        let stream = ComWrapper::new(MemoryStream {
            data: RefCell::new(state.to_vec()),
            pos: Cell::new(0),
        });
        let ptr = stream
            .as_com_ref::<IBStream>()
            .expect("MemoryStream implements IBStream")
            .as_ptr();
        // SAFETY: the stream lives until the calls return.
        unsafe {
            check(self.component().setState(ptr), "IComponent::setState")?;
            if let Some(controller) = &self.controller {
                stream.pos.set(0);
                check(
                    controller.setComponentState(ptr),
                    "IEditController::setComponentState",
                )?;
            }
        }
        Ok(())
    }

    /// Output parameter changes the plugin reported in the last [`Self::process`] call, as
    /// `(id, offset, value)`.
    pub fn last_output_param_changes(&self) -> Vec<(ParamID, i32, f64)> {
        self.params_out
            .queues
            .borrow()
            .iter()
            .flat_map(|q| {
                q.points
                    .borrow()
                    .iter()
                    .map(|&(o, v)| (q.id, o, v))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Number of events the plugin wrote to `outputEvents` in the last [`Self::process`] call.
    pub fn last_output_event_count(&self) -> usize {
        self.events_out.events.borrow().len()
    }
}

impl Drop for Vst3Instance {
    fn drop(&mut self) {
        // SAFETY: teardown calls on live objects, in the order the VST3 workflow prescribes.
        unsafe {
            if self.processing {
                if let Some(p) = &self.processor {
                    p.setProcessing(0);
                }
            }
            if self.active {
                if let Some(c) = &self.component {
                    c.setActive(0);
                }
            }
            if let Some((a, b)) = self.connected.take() {
                a.disconnect(b.as_ptr());
                b.disconnect(a.as_ptr());
            }
            if self.separate_controller {
                if let Some(c) = &self.controller {
                    c.terminate();
                }
            }
            if let Some(c) = &self.component {
                c.terminate();
            }
        }
        self.processor.take();
        self.controller.take();
        self.component.take();
        // `_module` (an Rc) drops after this, running ModuleExit when it is the last reference.
    }
}
