//! How the host names a note: the tag a voice carries, by which note-offs, expressions and
//! modulations find it and the host is told when it ends. A leaf the voices and the per-note
//! expressions both read.

/// Who a voice belongs to, as the host named the note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoiceTag {
    /// The host's note id, when it gave one.
    pub voice_id: Option<i32>,
    /// MIDI channel.
    pub channel: u8,
    /// MIDI key.
    pub key: u8,
}
