//! What the MIDI channels' controllers say about their notes: each channel's pitch bend and
//! its range (the `Bend range` control, or the channel's own, set by RPN 0), its sustain
//! pedal, its pressure and slide (channel aftertouch and CC 74, which MPE controllers send per
//! note channel, also before the note starts), and MPE zones (RPN 6, the MPE Configuration
//! Message), where a zone's master-channel bend moves every note of its member channels too.

/// MIDI channels.
pub const CHANNELS: usize = 16;

/// Largest bend range a channel takes from RPN 0, semitones: MPE's limit.
pub const MAX_RPN_BEND_RANGE: f32 = 96.0;

/// Bend range an MPE Configuration Message gives a zone's member channels (MPE's default).
pub const MPE_MEMBER_BEND_RANGE: f32 = 48.0;

/// Bend range an MPE Configuration Message gives a zone's master channel (MPE's default).
pub const MPE_MASTER_BEND_RANGE: f32 = 2.0;

/// MIDI controller numbers the engine acts on.
pub mod cc {
    /// Data entry, most significant byte (the value of the selected RPN).
    pub const DATA_ENTRY: u8 = 6;
    /// Data entry, least significant byte (cents of a bend range).
    pub const DATA_ENTRY_LSB: u8 = 38;
    /// Sustain pedal.
    pub const SUSTAIN: u8 = 64;
    /// Sound controller 5, "brightness": MPE's slide (the Y axis), at rest at 64.
    pub const SLIDE: u8 = 74;
    /// Non-registered parameter number, LSB (selecting one deselects the RPN).
    pub const NRPN_LSB: u8 = 98;
    /// Non-registered parameter number, MSB.
    pub const NRPN_MSB: u8 = 99;
    /// Registered parameter number, LSB.
    pub const RPN_LSB: u8 = 100;
    /// Registered parameter number, MSB.
    pub const RPN_MSB: u8 = 101;
    /// All sound off.
    pub const ALL_SOUND_OFF: u8 = 120;
    /// Reset all controllers.
    pub const RESET_ALL_CONTROLLERS: u8 = 121;
    /// All notes off.
    pub const ALL_NOTES_OFF: u8 = 123;
}

/// RPN 0: pitch bend sensitivity.
const RPN_BEND_RANGE: [u8; 2] = [0, 0];
/// RPN 6: the MPE Configuration Message (on a zone's master channel, 1 or 16).
const RPN_MPE_CONFIGURATION: [u8; 2] = [0, 6];
/// The "null" RPN selection.
const RPN_NULL: [u8; 2] = [127, 127];

/// What a controller asks of the sounding notes of its channel, beyond the channel's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NoteAction {
    /// The sustain pedal came up: release the notes it held.
    PedalLifted,
    /// Release every note (CC 123).
    AllNotesOff,
    /// Cut every note (CC 120).
    AllSoundOff,
    /// The channel's slide changed (CC 74), −1..1: its notes take it.
    Slide(f32),
    /// The channel's controllers were reset (CC 121): its notes' pressure is 0; `lifted` says
    /// whether the pedal came up.
    Reset {
        /// The sustain pedal came up.
        lifted: bool,
    },
}

/// One channel's controller state.
#[derive(Debug, Clone, Copy)]
struct Channel {
    /// Pitch bend, −1 (full down) to 1 (full up).
    bend: f32,
    /// The channel's own bend range, semitones, when RPN 0 or an MPE configuration set one.
    range: Option<f32>,
    /// The speed factor of its bend alone: 2^(bend · range / 12).
    speed: f64,
    /// Sustain pedal down.
    pedal: bool,
    /// Channel pressure, 0..1.
    pressure: f32,
    /// Slide (CC 74), −1..1.
    slide: f32,
    /// The MPE zone master whose bend also moves this channel's notes.
    master: Option<u8>,
    /// The selected registered parameter (MSB, LSB); [`RPN_NULL`] when none.
    rpn: [u8; 2],
    /// Semitones of the last RPN 0 data entry, to which a following LSB adds cents.
    range_semitones: u8,
}

impl Channel {
    const FRESH: Channel = Channel {
        bend: 0.0,
        range: None,
        speed: 1.0,
        pedal: false,
        pressure: 0.0,
        slide: 0.0,
        master: None,
        rpn: RPN_NULL,
        range_semitones: 0,
    };

    fn update_speed(&mut self, default_range: f32) {
        let range = self.range.unwrap_or(default_range);
        self.speed = if self.bend == 0.0 {
            1.0
        } else {
            (f64::from(self.bend) * f64::from(range) / 12.0).exp2()
        };
    }
}

/// The sixteen channels' controller state, with the engine's `Bend range` as the default range.
#[derive(Debug, Clone)]
pub(crate) struct Channels {
    channels: [Channel; CHANNELS],
    default_range: f32,
}

impl Channels {
    /// Centred bends, pedals up, no ranges of their own, no MPE zone.
    pub fn new(default_range: f32) -> Channels {
        Channels {
            channels: [Channel::FRESH; CHANNELS],
            default_range,
        }
    }

    /// Centres every bend, lifts every pedal and deselects every RPN; ranges and MPE zones,
    /// which a controller sends once when it connects, are kept.
    pub fn reset_performance(&mut self) {
        for c in &mut self.channels {
            c.bend = 0.0;
            c.speed = 1.0;
            c.pedal = false;
            c.pressure = 0.0;
            c.slide = 0.0;
            c.rpn = RPN_NULL;
        }
    }

    /// Changes the `Bend range` of channels without a range of their own.
    pub fn set_default_range(&mut self, range: f32) {
        self.default_range = range;
        for c in &mut self.channels {
            c.update_speed(range);
        }
    }

    /// The speed factor of every bend acting on a note of `channel`: its own, times its MPE
    /// zone master's. Exactly 1 when neither is bent.
    #[inline]
    pub fn speed(&self, channel: u8) -> f64 {
        let Some(c) = self.channels.get(usize::from(channel)) else {
            return 1.0;
        };
        let master = c
            .master
            .and_then(|m| self.channels.get(usize::from(m)))
            .map_or(1.0, |m| m.speed);
        c.speed * master
    }

    /// Whether `channel`'s sustain pedal is down.
    pub fn pedal(&self, channel: u8) -> bool {
        self.channels
            .get(usize::from(channel))
            .is_some_and(|c| c.pedal)
    }

    /// A channel's pressure (0..1) and slide (−1..1), which its new notes start with.
    pub fn pressure_and_slide(&self, channel: u8) -> (f32, f32) {
        self.channels
            .get(usize::from(channel))
            .map_or((0.0, 0.0), |c| (c.pressure, c.slide))
    }

    /// Sets a channel's pressure (0..1; clamped, non-finite values are ignored).
    pub fn set_pressure(&mut self, channel: u8, pressure: f32) {
        if let Some(c) = self.channels.get_mut(usize::from(channel)) {
            if pressure.is_finite() {
                c.pressure = pressure.clamp(0.0, 1.0);
            }
        }
    }

    /// Sets a channel's pitch bend (−1..1; clamped, non-finite values centre it).
    pub fn pitch_bend(&mut self, channel: u8, bend: f32) {
        let default_range = self.default_range;
        if let Some(c) = self.channels.get_mut(usize::from(channel)) {
            c.bend = if bend.is_finite() {
                bend.clamp(-1.0, 1.0)
            } else {
                0.0
            };
            c.update_speed(default_range);
        }
    }

    /// Presses or lifts a channel's sustain pedal; true when it came up.
    pub fn set_pedal(&mut self, channel: u8, down: bool) -> bool {
        match self.channels.get_mut(usize::from(channel)) {
            Some(c) => {
                let lifted = c.pedal && !down;
                c.pedal = down;
                lifted
            }
            None => false,
        }
    }

    /// Centres the bend, zeroes the pressure, lifts the pedal and deselects the RPN (CC 121,
    /// as MIDI's RP-015 defines it: the bend range and the slide stay). True when the pedal
    /// came up.
    pub fn reset_controllers(&mut self, channel: u8) -> bool {
        self.pitch_bend(channel, 0.0);
        if let Some(c) = self.channels.get_mut(usize::from(channel)) {
            c.rpn = RPN_NULL;
            c.pressure = 0.0;
        }
        self.set_pedal(channel, false)
    }

    /// Takes a control change (7-bit value) and says what it asks of the channel's notes.
    pub fn control_change(&mut self, channel: u8, controller: u8, value: u8) -> Option<NoteAction> {
        let index = usize::from(channel);
        if index >= CHANNELS {
            return None;
        }
        let value = value.min(127);
        match controller {
            cc::SUSTAIN => self
                .set_pedal(channel, value >= 64)
                .then_some(NoteAction::PedalLifted),
            cc::ALL_SOUND_OFF => Some(NoteAction::AllSoundOff),
            cc::ALL_NOTES_OFF => Some(NoteAction::AllNotesOff),
            cc::RESET_ALL_CONTROLLERS => Some(NoteAction::Reset {
                lifted: self.reset_controllers(channel),
            }),
            cc::SLIDE => {
                let slide = slide_of(value);
                self.channels[index].slide = slide;
                Some(NoteAction::Slide(slide))
            }
            cc::RPN_MSB => {
                self.channels[index].rpn[0] = value;
                None
            }
            cc::RPN_LSB => {
                self.channels[index].rpn[1] = value;
                None
            }
            cc::NRPN_MSB | cc::NRPN_LSB => {
                self.channels[index].rpn = RPN_NULL;
                None
            }
            cc::DATA_ENTRY => {
                match self.channels[index].rpn {
                    RPN_BEND_RANGE => {
                        self.channels[index].range_semitones = value;
                        self.set_range(channel, f32::from(value));
                    }
                    RPN_MPE_CONFIGURATION => self.configure_mpe(channel, value),
                    _ => {}
                }
                None
            }
            cc::DATA_ENTRY_LSB => {
                if self.channels[index].rpn == RPN_BEND_RANGE {
                    let semitones = f32::from(self.channels[index].range_semitones);
                    self.set_range(channel, semitones + f32::from(value.min(99)) / 100.0);
                }
                None
            }
            _ => None,
        }
    }

    fn set_range(&mut self, channel: u8, semitones: f32) {
        let default_range = self.default_range;
        if let Some(c) = self.channels.get_mut(usize::from(channel)) {
            c.range = Some(semitones.clamp(0.0, MAX_RPN_BEND_RANGE));
            c.update_speed(default_range);
        }
    }

    /// An MPE Configuration Message on channel 0 (lower zone) or 15 (upper zone): `members`
    /// channels next to the master become its zone (0 ends the zone), with MPE's default
    /// bend ranges. On any other channel it means nothing.
    fn configure_mpe(&mut self, master: u8, members: u8) {
        let members = usize::from(members.min(15));
        let zone = match master {
            0 => 1..members + 1,
            15 => 15 - members..15,
            _ => return,
        };
        for (index, c) in self.channels.iter_mut().enumerate() {
            let in_zone = zone.contains(&index);
            if in_zone {
                c.master = Some(master);
                c.range = Some(MPE_MEMBER_BEND_RANGE);
            } else if c.master == Some(master) {
                c.master = None;
            }
        }
        if let Some(m) = self.channels.get_mut(usize::from(master)) {
            m.master = None;
            m.range = Some(MPE_MASTER_BEND_RANGE);
        }
        let default_range = self.default_range;
        for c in &mut self.channels {
            c.update_speed(default_range);
        }
    }
}

/// A CC 74 value as a slide, −1..1, with MPE's resting 64 exactly 0.
pub fn slide_of(value: u8) -> f32 {
    let value = f32::from(value.min(127));
    if value >= 64.0 {
        (value - 64.0) / 63.0
    } else {
        (value - 64.0) / 64.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rpn(channels: &mut Channels, channel: u8, rpn: [u8; 2], value: u8) {
        channels.control_change(channel, cc::RPN_MSB, rpn[0]);
        channels.control_change(channel, cc::RPN_LSB, rpn[1]);
        channels.control_change(channel, cc::DATA_ENTRY, value);
    }

    fn semitones(speed: f64) -> f64 {
        12.0 * speed.log2()
    }

    #[test]
    fn rpn_0_sets_one_channels_bend_range_in_semitones_and_cents() {
        let mut c = Channels::new(2.0);
        rpn(&mut c, 3, RPN_BEND_RANGE, 12);
        c.pitch_bend(3, 1.0);
        c.pitch_bend(4, 1.0);
        assert_eq!(c.speed(3), 2.0, "12 semitones up, exactly");
        assert!(
            (semitones(c.speed(4)) - 2.0).abs() < 1e-12,
            "others keep Bend range"
        );
        c.control_change(3, cc::DATA_ENTRY_LSB, 50);
        assert!((semitones(c.speed(3)) - 12.5).abs() < 1e-12);
        // The control's range no longer applies to channel 3, still to the others.
        c.set_default_range(24.0);
        assert!((semitones(c.speed(3)) - 12.5).abs() < 1e-12);
        assert!((semitones(c.speed(4)) - 24.0).abs() < 1e-12);
        // Beyond MPE's 96 semitones: clamped.
        rpn(&mut c, 5, RPN_BEND_RANGE, 127);
        c.pitch_bend(5, 1.0);
        assert!((semitones(c.speed(5)) - 96.0).abs() < 1e-9);
    }

    #[test]
    fn data_entry_without_rpn_0_selected_changes_nothing() {
        let mut c = Channels::new(2.0);
        c.control_change(0, cc::DATA_ENTRY, 12);
        rpn(&mut c, 1, [0, 1], 12);
        c.control_change(2, cc::RPN_MSB, 0);
        c.control_change(2, cc::RPN_LSB, 0);
        c.control_change(2, cc::NRPN_MSB, 0);
        c.control_change(2, cc::DATA_ENTRY, 12);
        for ch in 0..3 {
            c.pitch_bend(ch, 1.0);
            assert!((semitones(c.speed(ch)) - 2.0).abs() < 1e-12, "channel {ch}");
        }
        // Reset all controllers centres the bend and deselects the RPN, keeps the range.
        rpn(&mut c, 6, RPN_BEND_RANGE, 7);
        c.pitch_bend(6, 1.0);
        c.control_change(6, cc::RESET_ALL_CONTROLLERS, 0);
        assert_eq!(c.speed(6), 1.0);
        c.control_change(6, cc::DATA_ENTRY, 30);
        c.pitch_bend(6, 1.0);
        assert!((semitones(c.speed(6)) - 7.0).abs() < 1e-12);
    }

    #[test]
    fn an_mpe_zone_adds_its_master_bend_to_its_members() {
        let mut c = Channels::new(2.0);
        // Lower zone: master channel 0, members 1..=7.
        rpn(&mut c, 0, RPN_MPE_CONFIGURATION, 7);
        c.pitch_bend(0, 1.0);
        c.pitch_bend(3, 0.5);
        assert!((semitones(c.speed(3)) - (2.0 + 24.0)).abs() < 1e-12);
        assert!(
            (semitones(c.speed(7)) - 2.0).abs() < 1e-12,
            "member: master only"
        );
        assert_eq!(c.speed(8), 1.0, "outside the zone");
        assert!(
            (semitones(c.speed(0)) - 2.0).abs() < 1e-12,
            "the master itself"
        );
        // Upper zone: master 15, members 12..=14; the lower zone stays.
        rpn(&mut c, 15, RPN_MPE_CONFIGURATION, 3);
        c.pitch_bend(15, -1.0);
        assert!((semitones(c.speed(12)) + 2.0).abs() < 1e-12);
        assert!((semitones(c.speed(3)) - 26.0).abs() < 1e-12);
        // Only channels 0 and 15 configure zones; 0 members ends one.
        rpn(&mut c, 4, RPN_MPE_CONFIGURATION, 15);
        rpn(&mut c, 0, RPN_MPE_CONFIGURATION, 0);
        assert!(
            (semitones(c.speed(3)) - 24.0).abs() < 1e-12,
            "own bend, member range"
        );
        assert!((semitones(c.speed(12)) + 2.0).abs() < 1e-12);
        // Performance state goes with a reset; the zone and ranges stay.
        c.reset_performance();
        c.pitch_bend(15, 1.0);
        assert!((semitones(c.speed(13)) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn slides_rest_at_64_and_reach_both_ends() {
        assert_eq!(slide_of(64), 0.0);
        assert_eq!(slide_of(127), 1.0);
        assert_eq!(slide_of(0), -1.0);
        assert_eq!(slide_of(200), 1.0);
        assert!((slide_of(96) - 32.0 / 63.0).abs() < 1e-7);
    }

    #[test]
    fn pedal_and_note_actions() {
        let mut c = Channels::new(2.0);
        assert_eq!(c.control_change(2, cc::SUSTAIN, 64), None);
        assert!(c.pedal(2));
        assert_eq!(
            c.control_change(2, cc::SUSTAIN, 10),
            Some(NoteAction::PedalLifted)
        );
        assert_eq!(c.control_change(2, cc::SUSTAIN, 10), None, "already up");
        assert_eq!(
            c.control_change(2, cc::ALL_NOTES_OFF, 0),
            Some(NoteAction::AllNotesOff)
        );
        assert_eq!(
            c.control_change(2, cc::ALL_SOUND_OFF, 0),
            Some(NoteAction::AllSoundOff)
        );
        assert_eq!(c.control_change(16, cc::ALL_SOUND_OFF, 0), None);
        assert_eq!(
            c.control_change(2, cc::SLIDE, 127),
            Some(NoteAction::Slide(1.0))
        );
        c.set_pressure(2, 0.5);
        assert_eq!(c.pressure_and_slide(2), (0.5, 1.0));
        assert_eq!(
            c.control_change(2, cc::RESET_ALL_CONTROLLERS, 0),
            Some(NoteAction::Reset { lifted: false })
        );
        assert_eq!(c.pressure_and_slide(2), (0.0, 1.0), "the slide stays");
        assert_eq!(c.control_change(2, 7, 100), None);
    }
}
