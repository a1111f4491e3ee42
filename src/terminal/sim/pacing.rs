//! Reply pacing: how fast, and in what pieces, the simulator puts its reply
//! frames on the wire (reference §4).
//!
//! Real firmware sends every reply frame with its own `send()`:
//! `CMD_PREPARE_DATA`, then each `CMD_DATA` packet, then the closing
//! `CMD_ACK_OK`. Its large-data sender waits about 20 ms after each data
//! packet, and some models pause much longer (up to about 1.2 s) every few
//! packets; on the wire a 64 KB data frame arrives in 1,460-byte TCP
//! segments spread over milliseconds. Many clients in the field read one
//! frame per socket read and throw away whatever else came in that read;
//! they work against real devices only because of this pacing.
//!
//! With pacing (the default), the server writes (and flushes) each frame on
//! its own, with gaps between the frames and, in [`Pacing::Firmware`] mode,
//! large TCP frames split into MTU-sized pieces. [`Pacing::None`] is for
//! benchmarks: one write per reply.
//! It is turned into the `delay` and `split` delivery flags of each
//! [`Outgoing`] packet by the device model, so it is visible (and testable)
//! without any I/O.
//!
//! ```
//! use std::time::Duration;
//! use zkproto::terminal::sim::Pacing;
//! assert_eq!("link".parse::<Pacing>(), Ok(Pacing::link()));
//! assert_eq!(Pacing::link(), Pacing::Link { gap: Duration::from_millis(5) });
//! let Pacing::Firmware(f) = "firmware".parse::<Pacing>().unwrap() else { unreachable!() };
//! assert_eq!((f.data_gap, f.mtu), (Duration::from_millis(20), 1460));
//! assert!("fast".parse::<Pacing>().is_err());
//! ```

use crate::terminal::command::ReplyCode;
use crate::terminal::sim::device::{Outgoing, Transport};
use core::fmt;
use core::str::FromStr;
use std::time::Duration;

/// Gap between two frames of one reply in [`Pacing::link`].
pub const LINK_GAP: Duration = Duration::from_millis(5);

/// Payload of one TCP segment on an Ethernet link (1,500-byte MTU minus the
/// IP and TCP headers).
pub const ETHERNET_MSS: usize = 1460;

/// How the simulator paces its reply frames. See the
/// [module documentation](self).
///
/// [`Link`](Pacing::Link) and [`Firmware`](Pacing::Firmware) write each
/// frame with its own write and flush (a frame marked by a fault to travel
/// with the next one, `Fault::CoalesceWithEvent`, excepted);
/// [`None`](Pacing::None) writes the frames of one reply in one write. Over
/// UDP every frame is its own datagram in every mode, and only
/// [`Firmware`](Pacing::Firmware) adds gaps (the firmware's data gaps and
/// pauses are the same on both transports).
///
/// The built-in profiles use [`Pacing::link`], and so do
/// `SimConfig::default()`, `zksim` and `zkctl --device sim`: frames arrive
/// separately, so a client that reads one frame per `read()` works, for a
/// cost of a few milliseconds per multi-frame reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pacing {
    /// As fast as possible (benchmarks): over TCP the frames of one reply
    /// go in a single write, as the simulator did before pacing existed. A
    /// client that reads one frame per `read()` loses data against this
    /// mode.
    None,
    /// A link that keeps frames apart: over TCP, `gap` before each frame
    /// after the first of a reply, and before each realtime event. Over UDP
    /// it adds nothing: every datagram is a frame of its own already.
    Link {
        /// The gap.
        gap: Duration,
    },
    /// What real firmware does (slow; see [`FirmwarePacing`]).
    Firmware(FirmwarePacing),
}

/// The parameters of [`Pacing::Firmware`].
///
/// ```
/// use std::time::Duration;
/// use zkproto::terminal::sim::{FirmwarePacing, Pacing};
/// // A model that stalls 1.2 s after every 4th data packet.
/// let p = Pacing::Firmware(FirmwarePacing {
///     pause_every: 4,
///     pause: Duration::from_millis(1200),
///     ..FirmwarePacing::default()
/// });
/// assert_eq!(p.to_string(), "firmware");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirmwarePacing {
    /// Gap before each frame after the first of a reply (and before each
    /// realtime event), as in [`Pacing::Link`].
    pub frame_gap: Duration,
    /// Wait after each `CMD_DATA` packet of a burst (firmware: about 20 ms),
    /// instead of `frame_gap`.
    pub data_gap: Duration,
    /// Every this many `CMD_DATA` packets of a burst, wait
    /// [`pause`](Self::pause) instead (0: never).
    pub pause_every: u32,
    /// The long pause (some models: up to about 1.2 s).
    pub pause: Duration,
    /// TCP: frames longer than this are written in pieces of this many
    /// bytes, each flushed, about a millisecond apart (0: never split).
    pub mtu: usize,
}

impl Default for FirmwarePacing {
    /// 2 ms between frames, 20 ms after each data packet, no long pause,
    /// 1,460-byte pieces.
    fn default() -> Self {
        FirmwarePacing {
            frame_gap: Duration::from_millis(2),
            data_gap: Duration::from_millis(20),
            pause_every: 0,
            pause: Duration::from_millis(1200),
            mtu: ETHERNET_MSS,
        }
    }
}

impl Pacing {
    /// [`Pacing::Link`] with a 5 ms gap ([`LINK_GAP`]).
    ///
    /// ```
    /// use zkproto::terminal::sim::{Pacing, pacing::LINK_GAP};
    /// assert_eq!(Pacing::link(), Pacing::Link { gap: LINK_GAP });
    /// assert_eq!(Pacing::default(), Pacing::link());
    /// ```
    pub const fn link() -> Pacing {
        Pacing::Link { gap: LINK_GAP }
    }

    /// [`Pacing::Firmware`] with the [default](FirmwarePacing::default)
    /// parameters.
    ///
    /// ```
    /// use zkproto::terminal::sim::{FirmwarePacing, Pacing};
    /// assert_eq!(Pacing::firmware(), Pacing::Firmware(FirmwarePacing::default()));
    /// ```
    pub fn firmware() -> Pacing {
        Pacing::Firmware(FirmwarePacing::default())
    }

    /// The mode's name: `none`, `link` or `firmware`.
    ///
    /// ```
    /// use zkproto::terminal::sim::Pacing;
    /// assert_eq!(Pacing::None.name(), "none");
    /// assert_eq!(Pacing::firmware().name(), "firmware");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Pacing::None => "none",
            Pacing::Link { .. } => "link",
            Pacing::Firmware(_) => "firmware",
        }
    }

    /// Sets the `delay` and `split` flags of one reply (or one batch of
    /// realtime events): `before_first` puts a gap before the first frame
    /// too (events may follow a reply that is still being read). Delays
    /// already set (a `Delay` fault, a late `CMD_ACK_OK`) are kept and added
    /// to; a `split` set by a fault wins over the MTU pieces.
    pub(crate) fn apply(&self, transport: Transport, out: &mut [Outgoing], before_first: bool) {
        let (gap, fw) = match self {
            // Datagrams are frames of their own already.
            Pacing::Link { .. } if transport == Transport::Udp => return,
            Pacing::None => {
                if transport == Transport::Tcp {
                    let last = out.len().saturating_sub(1);
                    for o in out.iter_mut().take(last) {
                        o.coalesce_with_next = true;
                    }
                }
                return;
            }
            Pacing::Link { gap } => (*gap, None),
            Pacing::Firmware(f) => (f.frame_gap, Some(f)),
        };
        let mut data_packets: u32 = 0;
        let mut previous: Option<(ReplyCode, bool)> = None;
        for o in out.iter_mut() {
            let wait = match previous {
                // Travels in the same write as the previous frame.
                Some((_, true)) => Duration::ZERO,
                None if !before_first => Duration::ZERO,
                Some((ReplyCode::Data, _)) if fw.is_some() => {
                    data_packets = data_packets.saturating_add(1);
                    match fw {
                        Some(f)
                            if f.pause_every > 0 && data_packets.is_multiple_of(f.pause_every) =>
                        {
                            f.pause
                        }
                        Some(f) => f.data_gap,
                        None => gap,
                    }
                }
                _ => gap,
            };
            o.delay = o.delay.saturating_add(wait);
            if let Some(f) = fw.filter(|f| f.mtu > 0 && transport == Transport::Tcp)
                && o.split.is_none()
                && o.packet.data.len() + 16 > f.mtu
            {
                o.split = Some(f.mtu);
            }
            previous = Some((o.packet.reply_code(), o.coalesce_with_next));
        }
    }
}

impl Default for Pacing {
    /// [`Pacing::link`].
    fn default() -> Self {
        Pacing::link()
    }
}

impl fmt::Display for Pacing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`Pacing`] name (it holds the name given).
///
/// ```
/// use zkproto::terminal::sim::Pacing;
/// let e = "turbo".parse::<Pacing>().unwrap_err();
/// assert_eq!(e.to_string(), r#"unknown pacing "turbo" (firmware, link or none)"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPacing(pub String);

impl fmt::Display for UnknownPacing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown pacing {:?} (firmware, link or none)",
            self.0.chars().take(32).collect::<String>()
        )
    }
}

impl std::error::Error for UnknownPacing {}

impl FromStr for Pacing {
    type Err = UnknownPacing;

    /// `none`, `link` or `firmware` (case-insensitive), with the default
    /// parameters of the mode.
    fn from_str(s: &str) -> Result<Pacing, UnknownPacing> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Pacing::None),
            "link" => Ok(Pacing::link()),
            "firmware" => Ok(Pacing::firmware()),
            _ => Err(UnknownPacing(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::packet::Packet;
    use bytes::Bytes;

    fn frame(code: ReplyCode, len: usize) -> Outgoing {
        Outgoing::new(Packet::new(code, 1, 9, Bytes::from(vec![0u8; len])))
    }

    fn burst(data_packets: usize, len: usize) -> Vec<Outgoing> {
        let mut v = vec![frame(ReplyCode::PrepareData, 8)];
        v.extend((0..data_packets).map(|_| frame(ReplyCode::Data, len)));
        v.push(frame(ReplyCode::AckOk, 0));
        v
    }

    fn delays(out: &[Outgoing]) -> Vec<u64> {
        out.iter().map(|o| o.delay.as_millis() as u64).collect()
    }

    #[test]
    fn none_adds_no_delay_and_coalesces_tcp_frames() {
        let mut out = burst(3, 100);
        Pacing::None.apply(Transport::Tcp, &mut out, true);
        assert!(out.iter().all(|o| o.delay.is_zero() && o.split.is_none()));
        let joined: Vec<bool> = out.iter().map(|o| o.coalesce_with_next).collect();
        assert_eq!(joined, [true, true, true, true, false]);
        let mut out = burst(3, 100);
        Pacing::None.apply(Transport::Udp, &mut out, true);
        assert_eq!(out, burst(3, 100));
    }

    #[test]
    fn link_separates_frames_but_not_the_first() {
        let mut out = burst(2, 100);
        Pacing::link().apply(Transport::Tcp, &mut out, false);
        assert_eq!(delays(&out), [0, 5, 5, 5]);
        assert!(out.iter().all(|o| o.split.is_none()));
        let mut events = vec![frame(ReplyCode::AckOk, 4)];
        Pacing::link().apply(Transport::Tcp, &mut events, true);
        assert_eq!(delays(&events), [5]);
    }

    #[test]
    fn firmware_waits_after_data_pauses_every_n_and_splits_tcp_frames() {
        let fw = Pacing::Firmware(FirmwarePacing {
            pause_every: 2,
            ..FirmwarePacing::default()
        });
        let mut out = burst(5, 3000);
        out[0].delay = Duration::from_millis(7); // a Delay fault
        fw.apply(Transport::Tcp, &mut out, false);
        // PREP, D1 (after PREP: 2), D2 (after D1: 20), D3 (after D2: pause),
        // D4 (20), D5 (pause), ACK (20).
        assert_eq!(delays(&out), [7, 2, 20, 1200, 20, 1200, 20]);
        let splits: Vec<_> = out.iter().map(|o| o.split).collect();
        assert_eq!(splits[0], None);
        assert!(splits[1..6].iter().all(|s| *s == Some(1460)));
        assert_eq!(splits[6], None);

        let mut udp = burst(2, 1024);
        Pacing::link().apply(Transport::Udp, &mut udp, true);
        assert_eq!(udp, burst(2, 1024), "link adds nothing over UDP");
        fw.apply(Transport::Udp, &mut udp, false);
        assert_eq!(delays(&udp), [0, 2, 20, 1200]);
        assert!(udp.iter().all(|o| o.split.is_none()));
    }

    #[test]
    fn a_coalesced_frame_gets_no_gap_and_a_fault_split_wins() {
        let mut out = burst(1, 3000);
        out[0].coalesce_with_next = true;
        out[1].split = Some(5);
        Pacing::firmware().apply(Transport::Tcp, &mut out, false);
        assert_eq!(delays(&out), [0, 0, 20]);
        assert_eq!(out[1].split, Some(5));
    }

    #[test]
    fn names_round_trip() {
        for p in [Pacing::None, Pacing::link(), Pacing::firmware()] {
            assert_eq!(p.to_string().parse::<Pacing>(), Ok(p));
        }
        assert_eq!("LINK".parse::<Pacing>(), Ok(Pacing::link()));
        let e = "x".repeat(100).parse::<Pacing>().unwrap_err().to_string();
        assert!(e.len() < 100, "{e}");
    }
}
