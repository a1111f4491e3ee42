//! Bulk transfers (reference §4): one multi-packet reply ([`Burst`]) and a
//! whole bulk read ([`BulkReader`]: `1503`, then `1504` chunks, then
//! `CMD_FREE_DATA`), with every announced size checked against
//! [`BulkLimits`] before anything is allocated.

use super::SessionError;
use crate::terminal::command::{Command, ReplyCode};
use crate::terminal::packet::Packet;
use crate::terminal::record::bulk::{BufferDescriptor, BulkRead, PrepareData};
use crate::terminal::request::Request;
use bytes::Bytes;

/// Limits of a bulk read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkLimits {
    /// Largest buffer size accepted from a descriptor or direct reply.
    pub max_bulk: u32,
    /// Bytes asked for with each `1504` request (TCP 0xFFC0, UDP 16384).
    pub chunk_size: u32,
    /// How many times a chunk with missing packets may be asked for again.
    pub chunk_retries: u32,
}

impl Default for BulkLimits {
    fn default() -> Self {
        BulkLimits {
            max_bulk: crate::terminal::record::bulk::MAX_BULK_SIZE,
            chunk_size: 0xFFC0,
            chunk_retries: 3,
        }
    }
}

/// Result of feeding one reply packet to a [`BulkReader`] or [`Burst`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// In-order bytes to hand to the consumer.
    pub data: Option<Bytes>,
    /// The current request's exchange is over (send the next request).
    pub done: bool,
}

/// Collects one multi-packet reply: a direct `CMD_DATA` / `CMD_ACK_OK`
/// with data, or `CMD_PREPARE_DATA` + `CMD_DATA`… + `CMD_ACK_OK` (§4.3, §4.8).
///
/// Data is delivered in order; after a missing packet (packet index gap)
/// the rest of the burst is ignored and [`missing`](Self::missing) says
/// how much did not arrive.
#[derive(Clone, Debug)]
pub struct Burst {
    command: Command,
    /// Most bytes this exchange may deliver.
    limit: u32,
    announced: Option<u32>,
    packet_size: Option<u32>,
    got: u32,
    next_index: Option<u16>,
    check_index: bool,
    broken: bool,
    done: bool,
}

impl Burst {
    /// A burst answering `command`, delivering at most `limit` bytes.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// assert_eq!((b.received(), b.announced(), b.is_done()), (0, None, false));
    /// ```
    pub fn new(command: Command, limit: u32) -> Self {
        Burst {
            command,
            limit,
            announced: None,
            packet_size: None,
            got: 0,
            next_index: None,
            check_index: true,
            broken: false,
            done: false,
        }
    }

    /// Bytes delivered so far.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// let step = b.on_packet(&Packet::new(ReplyCode::Data, 7, 2, &b"abc"[..])).unwrap();
    /// assert_eq!(step.data, Some(Bytes::from_static(b"abc"))); // a direct answer
    /// assert_eq!(b.received(), 3);
    /// ```
    pub fn received(&self) -> u32 {
        self.got
    }

    /// The size announced by `CMD_PREPARE_DATA`, if any.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// b.on_packet(&prepare).unwrap();
    /// assert_eq!(b.announced(), Some(6));
    /// ```
    pub fn announced(&self) -> Option<u32> {
        self.announced
    }

    /// Whether the exchange is over.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// b.on_packet(&prepare).unwrap();
    /// assert!(!b.is_done());
    /// b.on_packet(&Packet::new(ReplyCode::AckOk, 7, 2, &[][..])).unwrap();
    /// assert!(b.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Marks a packet of this burst as lost (e.g. dropped for a bad
    /// checksum): later data is ignored until the exchange ends.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// b.on_packet(&prepare).unwrap();
    /// b.lost_packet(); // e.g. a frame with a bad checksum was dropped
    /// let step = b.on_packet(&Packet::new(ReplyCode::Data, 0, 2, &b"abc"[..])).unwrap();
    /// assert_eq!(step.data, None);
    /// assert_eq!(b.missing(), 6);
    /// ```
    pub fn lost_packet(&mut self) {
        self.broken = true;
    }

    /// Bytes announced but not delivered (0 without an announcement).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// b.on_packet(&prepare).unwrap();
    /// b.on_packet(&Packet::new(ReplyCode::Data, 0, 2, &b"abc"[..])).unwrap();
    /// assert_eq!(b.missing(), 3);
    /// ```
    pub fn missing(&self) -> u32 {
        self.announced.map_or(0, |a| a.saturating_sub(self.got))
    }

    fn deliver(&mut self, data: &Bytes, limit: u32) -> Result<Option<Bytes>, SessionError> {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let room = limit.saturating_sub(self.got);
        if len > room {
            return Err(SessionError::Unexpected {
                during: "bulk read",
                detail: format!(
                    "{} sent {len} bytes where at most {room} were expected",
                    self.command
                ),
            });
        }
        self.got += len;
        Ok(if data.is_empty() {
            None
        } else {
            Some(data.clone())
        })
    }

    /// Feeds one reply packet (already matched by reply id).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::session::Burst;
    /// # let mut b = Burst::new(Command::ReadBuffer, 6);
    /// # let prepare = Packet::new(ReplyCode::PrepareData, 7, 2, 6u32.to_le_bytes().to_vec());
    /// assert!(!b.on_packet(&prepare).unwrap().done);
    /// let first = b.on_packet(&Packet::new(ReplyCode::Data, 0, 2, &b"abc"[..])).unwrap();
    /// assert_eq!(first.data, Some(Bytes::from_static(b"abc")));
    /// let last = b.on_packet(&Packet::new(ReplyCode::Data, 1, 2, &b"def"[..])).unwrap();
    /// assert!(last.done); // all 6 announced bytes arrived
    /// ```
    pub fn on_packet(&mut self, p: &Packet) -> Result<Step, SessionError> {
        if self.done {
            return Ok(Step {
                data: None,
                done: true,
            });
        }
        match p.reply_code() {
            ReplyCode::PrepareData if self.announced.is_none() && self.got == 0 => {
                let prep = PrepareData::parse(&p.data)?;
                if prep.len > self.limit {
                    return Err(SessionError::TooLarge {
                        what: "CMD_PREPARE_DATA",
                        announced: u64::from(prep.len),
                        limit: u64::from(self.limit),
                    });
                }
                self.announced = Some(prep.len);
                self.packet_size = prep.packet_size;
                if prep.len == 0 {
                    self.done = true;
                }
                Ok(Step {
                    data: None,
                    done: self.done,
                })
            }
            ReplyCode::PrepareData => {
                // The burst starts over: the device replayed its cached
                // reply to a retransmission. Ignore the replay; the missing
                // bytes are asked for with a new request.
                tracing::debug!("burst restarted by the device; ignoring the replay");
                self.broken = true;
                Ok(Step::default())
            }
            ReplyCode::Data if self.announced.is_none() => {
                // Direct answer: the whole result in one packet.
                let data = self.deliver(&p.data, self.limit)?;
                self.done = true;
                Ok(Step { data, done: true })
            }
            ReplyCode::Data => {
                let announced = self.announced.unwrap_or(0);
                if self.broken {
                    return Ok(Step::default());
                }
                let index = p.session_id;
                match self.next_index {
                    None => {
                        self.check_index = index == 0;
                        self.next_index = Some(1);
                    }
                    Some(expected) if self.check_index && index != expected => {
                        tracing::debug!(expected, index, "burst packet missing; will ask again");
                        self.broken = true;
                        return Ok(Step::default());
                    }
                    Some(expected) => self.next_index = Some(expected.wrapping_add(1)),
                }
                if let Some(ps) = self
                    .packet_size
                    .filter(|&ps| ps > 0 && p.data.len() > ps as usize)
                {
                    tracing::debug!(
                        len = p.data.len(),
                        psize = ps,
                        "burst packet larger than announced packet size"
                    );
                }
                let data = self.deliver(&p.data, announced)?;
                if self.got == announced {
                    // The closing CMD_ACK_OK, if any, becomes a stale packet.
                    self.done = true;
                }
                Ok(Step {
                    data,
                    done: self.done,
                })
            }
            ReplyCode::AckOk => {
                self.done = true;
                if self.announced.is_none() && !p.data.is_empty() {
                    let data = self.deliver(&p.data, self.limit)?;
                    return Ok(Step { data, done: true });
                }
                Ok(Step {
                    data: None,
                    done: true,
                })
            }
            ReplyCode::AckUnauth => Err(SessionError::Unauthorized),
            other if !other.is_ok() => Err(SessionError::Refused {
                command: self.command,
                reply: other,
                code: p.session_id,
            }),
            _ => Err(SessionError::Unexpected {
                during: "bulk read",
                detail: format!("{:?} after {} of {:?} bytes", p, self.got, self.announced),
            }),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Prepare,
    Chunks,
    Done,
}

/// The bulk-read state machine (§4): `1503`, then `1504` chunks, then
/// `CMD_FREE_DATA`.
///
/// Usage: send [`prepare_request`](Self::prepare_request); feed every reply
/// to [`on_packet`](Self::on_packet) until a [`Step`] says `done`; then ask
/// [`next_request`](Self::next_request) for the next `1504` (or `None` when
/// all bytes arrived) and repeat; finally send [`free_request`](Self::free_request).
///
/// ```
/// use zkproto::terminal::{Command, Packet, ReplyCode};
/// use zkproto::terminal::record::bulk::{BulkRead, BufferDescriptor};
/// use zkproto::terminal::session::{BulkLimits, BulkReader};
/// let mut r = BulkReader::new(BulkRead::users(), BulkLimits { chunk_size: 4, ..BulkLimits::default() });
/// let buffer = b"\x04\0\0\0abcd";
/// let desc = BufferDescriptor::for_buffer(buffer).encode();
/// assert!(r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc)).unwrap().done);
/// let mut out = Vec::new();
/// while let Some(req) = r.next_request().unwrap() {
///     assert_eq!(req.command, Command::ReadBuffer);
///     let off = u32::from_le_bytes(req.data[..4].try_into().unwrap()) as usize;
///     let len = u32::from_le_bytes(req.data[4..].try_into().unwrap()) as usize;
///     let step = r.on_packet(&Packet::new(ReplyCode::Data, 1, 2, buffer[off..off + len].to_vec())).unwrap();
///     out.extend_from_slice(&step.data.unwrap());
/// }
/// assert_eq!(&out[..], &buffer[..]);
/// assert!(r.is_complete());
/// ```
#[derive(Clone, Debug)]
pub struct BulkReader {
    read: BulkRead,
    limits: BulkLimits,
    phase: Phase,
    size: Option<u32>,
    hash: Option<u32>,
    delivered: u32,
    chunk: Option<Burst>,
    retries: u32,
    /// Buffer offset of the first byte wanted.
    start: u32,
}

impl BulkReader {
    /// A reader for `read` with `limits`.
    ///
    /// ```
    /// # use zkproto::terminal::{Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// assert_eq!((r.size(), r.delivered(), r.is_complete()), (None, 0, false));
    /// ```
    pub fn new(read: BulkRead, limits: BulkLimits) -> Self {
        BulkReader {
            read,
            limits,
            phase: Phase::Prepare,
            size: None,
            hash: None,
            delivered: 0,
            chunk: None,
            retries: 0,
            start: 0,
        }
    }

    /// Reads the buffer from `offset` on (§4.3: any `offset, length` within
    /// the buffer may be read): the bytes before it are neither asked for
    /// nor handed over, and count as [`delivered`](Self::delivered). An
    /// offset past the end of the buffer delivers nothing. A small buffer
    /// that the device sends whole in its `1503` reply is cut the same way.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// let buffer = b"\x04\0\0\0abcd";
    /// let mut r = BulkReader::new(BulkRead::attendance(), BulkLimits::default()).starting_at(6);
    /// let desc = BufferDescriptor::for_buffer(buffer).encode();
    /// r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc)).unwrap();
    /// assert_eq!(r.delivered(), 6);
    /// let req = r.next_request().unwrap().unwrap();
    /// assert_eq!(&req.data[..], &[6, 0, 0, 0, 2, 0, 0, 0][..]); // offset 6, 2 bytes
    /// // Sent whole instead:
    /// let mut d = BulkReader::new(BulkRead::attendance(), BulkLimits::default()).starting_at(6);
    /// let step = d.on_packet(&Packet::new(ReplyCode::Data, 1, 1, &buffer[..])).unwrap();
    /// assert_eq!(step.data.as_deref(), Some(&b"cd"[..]));
    /// ```
    pub fn starting_at(mut self, offset: u32) -> Self {
        self.start = offset;
        self
    }

    /// The `1503` request.
    ///
    /// ```
    /// # use zkproto::terminal::{Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// let req = r.prepare_request();
    /// assert_eq!(req.command, zkproto::terminal::Command::PrepareBuffer);
    /// assert_eq!(BulkRead::parse(&req.data).unwrap(), BulkRead::users());
    /// ```
    pub fn prepare_request(&self) -> Request {
        Request::raw(Command::PrepareBuffer, self.read.encode())
    }

    /// `CMD_FREE_DATA`, to send once the data is in (or after a failure).
    ///
    /// ```
    /// # use zkproto::terminal::{Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// assert_eq!(r.free_request().command, zkproto::terminal::Command::FreeData);
    /// ```
    pub fn free_request(&self) -> Request {
        Request::free_data()
    }

    /// The buffer size, once known.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// assert_eq!(r.size(), Some(8));
    /// ```
    pub fn size(&self) -> Option<u32> {
        self.size
    }

    /// The buffer hash from the descriptor (not sent with direct replies).
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// assert_eq!(r.hash(), Some(desc.hash));
    /// // A direct CMD_DATA answer carries no hash.
    /// let mut direct = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// direct.on_packet(&Packet::new(ReplyCode::Data, 1, 1, &buffer[..])).unwrap();
    /// assert_eq!((direct.size(), direct.hash()), (Some(8), None));
    /// ```
    pub fn hash(&self) -> Option<u32> {
        self.hash
    }

    /// Bytes delivered so far, in order.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// r.next_request().unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::Data, 1, 2, &buffer[..5])).unwrap();
    /// assert_eq!(r.delivered(), 5);
    /// ```
    pub fn delivered(&self) -> u32 {
        self.delivered
    }

    /// Marks a packet of the current exchange as lost; the rest of the
    /// chunk will be asked for again.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// r.next_request().unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::PrepareData, 1, 2, 8u32.to_le_bytes().to_vec())).unwrap();
    /// r.lost_packet();
    /// let step = r.on_packet(&Packet::new(ReplyCode::Data, 0, 2, &buffer[..])).unwrap();
    /// assert_eq!((step.data, r.delivered()), (None, 0));
    /// ```
    pub fn lost_packet(&mut self) {
        if let Some(c) = &mut self.chunk {
            c.lost_packet();
        }
    }

    /// Whether the current chunk's reply has started (an announcement or
    /// data arrived). A timeout then means the rest of the burst was lost:
    /// it is better asked for again than waited for.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// r.next_request().unwrap();
    /// assert!(!r.chunk_started());
    /// r.on_packet(&Packet::new(ReplyCode::PrepareData, 1, 2, 8u32.to_le_bytes().to_vec())).unwrap();
    /// assert!(r.chunk_started());
    /// ```
    pub fn chunk_started(&self) -> bool {
        self.chunk
            .as_ref()
            .is_some_and(|c| c.announced.is_some() || c.got > 0 || c.broken)
    }

    /// Ends the current chunk's exchange early (its missing bytes will be
    /// asked for by [`next_request`](Self::next_request)).
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// r.next_request().unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::PrepareData, 1, 2, 8u32.to_le_bytes().to_vec())).unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::Data, 0, 2, &buffer[..3])).unwrap();
    /// r.abandon_chunk(); // the rest of the burst timed out
    /// let again = r.next_request().unwrap().unwrap();
    /// assert_eq!(&again.data[..], &[3, 0, 0, 0, 5, 0, 0, 0][..]); // offset 3, 5 bytes
    /// ```
    pub fn abandon_chunk(&mut self) {
        if let Some(c) = &mut self.chunk {
            c.done = true;
        }
    }

    /// Chunk re-requests made so far.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// r.next_request().unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::Data, 1, 2, &buffer[..3])).unwrap();
    /// r.abandon_chunk();
    /// assert_eq!(r.retries(), 0);
    /// r.next_request().unwrap(); // asks for the 5 missing bytes
    /// assert_eq!(r.retries(), 1);
    /// ```
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Whether every byte has been delivered.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// assert!(!r.is_complete());
    /// r.next_request().unwrap();
    /// r.on_packet(&Packet::new(ReplyCode::Data, 1, 2, &buffer[..])).unwrap();
    /// assert!(r.is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Feeds one reply to the current request (matched by reply id).
    ///
    /// ```
    /// # use zkproto::terminal::{Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::BulkRead;
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// // A small buffer may come back directly as CMD_DATA.
    /// let step = r.on_packet(&Packet::new(ReplyCode::Data, 1, 1, &b"\x00\0\0\0"[..])).unwrap();
    /// assert!(step.done && r.is_complete());
    /// assert_eq!(step.data.as_deref(), Some(&b"\x00\0\0\0"[..]));
    /// ```
    pub fn on_packet(&mut self, p: &Packet) -> Result<Step, SessionError> {
        match self.phase {
            Phase::Prepare => self.on_prepare_reply(p),
            Phase::Chunks => {
                let Some(chunk) = &mut self.chunk else {
                    return Err(SessionError::Unexpected {
                        during: "bulk read",
                        detail: format!("{p:?} while no chunk was requested"),
                    });
                };
                let step = chunk.on_packet(p)?;
                if let Some(d) = &step.data {
                    self.delivered = self
                        .delivered
                        .saturating_add(u32::try_from(d.len()).unwrap_or(u32::MAX));
                }
                if self.size == Some(self.delivered) {
                    self.phase = Phase::Done;
                }
                Ok(step)
            }
            Phase::Done => Ok(Step {
                data: None,
                done: true,
            }),
        }
    }

    fn on_prepare_reply(&mut self, p: &Packet) -> Result<Step, SessionError> {
        let too_large = |what, n: u64, limit: u32| SessionError::TooLarge {
            what,
            announced: n,
            limit: u64::from(limit),
        };
        match p.reply_code() {
            ReplyCode::Data => {
                let n = u32::try_from(p.data.len()).map_err(|_| {
                    too_large("direct reply", p.data.len() as u64, self.limits.max_bulk)
                })?;
                if n > self.limits.max_bulk {
                    return Err(too_large(
                        "direct reply",
                        u64::from(n),
                        self.limits.max_bulk,
                    ));
                }
                self.size = Some(n);
                self.delivered = n;
                self.phase = Phase::Done;
                let from = usize::try_from(self.start.min(n)).unwrap_or(0);
                Ok(Step {
                    data: Some(p.data.slice(from..)),
                    done: true,
                })
            }
            ReplyCode::AckOk | ReplyCode::PrepareData if p.data.len() == BufferDescriptor::LEN => {
                let d = BufferDescriptor::parse(&p.data)?;
                for n in [d.size, d.original_size] {
                    if n > self.limits.max_bulk {
                        return Err(too_large(
                            "buffer descriptor",
                            u64::from(n),
                            self.limits.max_bulk,
                        ));
                    }
                }
                self.size = Some(d.size);
                self.hash = Some(d.hash);
                self.delivered = self.start.min(d.size);
                self.phase = if d.size == self.delivered {
                    Phase::Done
                } else {
                    Phase::Chunks
                };
                Ok(Step {
                    data: None,
                    done: true,
                })
            }
            ReplyCode::AckUnauth => Err(SessionError::Unauthorized),
            other if !other.is_ok() => Err(SessionError::Refused {
                command: Command::PrepareBuffer,
                reply: other,
                code: p.session_id,
            }),
            _ => Err(SessionError::Unexpected {
                during: "1503 prepare buffer",
                detail: format!("{p:?} (expected CMD_DATA or a 13-byte descriptor)"),
            }),
        }
    }

    /// The next `1504` request, or `None` when every byte has arrived.
    /// A chunk that ended short is asked for again from its first missing
    /// byte, at most `chunk_retries` times in total.
    ///
    /// ```
    /// # use zkproto::terminal::{Command, Packet, ReplyCode};
    /// # use zkproto::terminal::record::bulk::{BufferDescriptor, BulkRead};
    /// # use zkproto::terminal::session::{BulkLimits, BulkReader};
    /// # let buffer = b"\x04\0\0\0abcd";
    /// # let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
    /// # let desc = BufferDescriptor::for_buffer(buffer);
    /// # r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc.encode())).unwrap();
    /// let req = r.next_request().unwrap().unwrap();
    /// assert_eq!(req.command, Command::ReadBuffer);
    /// assert_eq!(&req.data[..], &[0, 0, 0, 0, 8, 0, 0, 0][..]); // offset 0, 8 bytes
    /// r.on_packet(&Packet::new(ReplyCode::Data, 1, 2, &buffer[..])).unwrap();
    /// assert_eq!(r.next_request(), Ok(None));
    /// ```
    pub fn next_request(&mut self) -> Result<Option<Request>, SessionError> {
        let Some(size) = self.size else {
            return Err(SessionError::Unexpected {
                during: "bulk read",
                detail: "no descriptor yet".into(),
            });
        };
        if self.delivered >= size {
            self.phase = Phase::Done;
            self.chunk = None;
            return Ok(None);
        }
        if let Some(prev) = &self.chunk {
            let asked = prev.limit;
            if prev.received() < asked {
                self.retries += 1;
                if self.retries > self.limits.chunk_retries {
                    return Err(SessionError::Incomplete {
                        expected: u64::from(size),
                        received: u64::from(self.delivered),
                        retries: self.retries - 1,
                    });
                }
            }
        }
        let len = self.limits.chunk_size.max(1).min(size - self.delivered);
        self.chunk = Some(Burst::new(Command::ReadBuffer, len));
        Ok(Some(Request::read_buffer(self.delivered, len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::record::bulk::{BufferDescriptor, PrepareData, buffer_hash};

    #[test]
    fn burst_with_gap_is_asked_again() {
        let buffer: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let mut r = BulkReader::new(
            BulkRead::attendance(),
            BulkLimits {
                chunk_size: 3000,
                chunk_retries: 2,
                max_bulk: 10_000,
            },
        );
        let desc = BufferDescriptor::for_buffer(&buffer).encode();
        assert!(
            r.on_packet(&Packet::new(ReplyCode::AckOk, 0, 1, desc))
                .unwrap()
                .done
        );
        assert_eq!(r.hash(), Some(buffer_hash(&buffer)));
        let req = r.next_request().unwrap().unwrap();
        assert_eq!(&req.data[..], [0, 0, 0, 0, 0xb8, 0x0b, 0, 0]);
        let mut out = Vec::new();
        let prep = PrepareData {
            len: 3000,
            packet_size: Some(1024),
        }
        .encode();
        r.on_packet(&Packet::new(ReplyCode::PrepareData, 0, 2, prep))
            .unwrap();
        // Packet 0 arrives, packet 1 is lost, packet 2 arrives.
        let s0 = r
            .on_packet(&Packet::new(ReplyCode::Data, 0, 2, buffer[..1024].to_vec()))
            .unwrap();
        out.extend_from_slice(&s0.data.unwrap());
        let s2 = r
            .on_packet(&Packet::new(ReplyCode::Data, 2, 2, buffer[2048..].to_vec()))
            .unwrap();
        assert_eq!(s2, Step::default());
        assert!(
            r.on_packet(&Packet::new(ReplyCode::AckOk, 0, 2, &[][..]))
                .unwrap()
                .done
        );
        let again = r.next_request().unwrap().unwrap();
        assert_eq!(&again.data[..], [0, 4, 0, 0, 0xb8, 0x07, 0, 0]);
        let s = r
            .on_packet(&Packet::new(ReplyCode::Data, 0, 3, buffer[1024..].to_vec()))
            .unwrap();
        out.extend_from_slice(&s.data.unwrap());
        assert!(r.next_request().unwrap().is_none());
        assert_eq!(out, buffer);
        assert_eq!(r.retries(), 1);
    }

    #[test]
    fn absurd_sizes_are_refused() {
        let mut r = BulkReader::new(
            BulkRead::users(),
            BulkLimits {
                max_bulk: 1000,
                ..BulkLimits::default()
            },
        );
        let d = BufferDescriptor {
            compressed: 0,
            size: 0xFFFF_FFF0,
            original_size: 0xFFFF_FFF0,
            hash: 0,
        };
        let e = r
            .on_packet(&Packet::new(ReplyCode::AckOk, 0, 1, d.encode()))
            .unwrap_err();
        assert_eq!(
            e,
            SessionError::TooLarge {
                what: "buffer descriptor",
                announced: 0xFFFF_FFF0,
                limit: 1000
            }
        );
        let mut b = Burst::new(Command::ReadBuffer, 100);
        let prep = PrepareData {
            len: 101,
            packet_size: Some(1024),
        }
        .encode();
        assert!(matches!(
            b.on_packet(&Packet::new(ReplyCode::PrepareData, 0, 1, prep)),
            Err(SessionError::TooLarge {
                announced: 101,
                limit: 100,
                ..
            })
        ));
    }

    #[test]
    fn an_unauthorised_prepare_is_unauthorized_not_refused() {
        let mut r = BulkReader::new(BulkRead::users(), BulkLimits::default());
        let e = r
            .on_packet(&Packet::new(ReplyCode::AckUnauth, 0, 1, &[][..]))
            .unwrap_err();
        assert_eq!(e, SessionError::Unauthorized);
        let e = r
            .on_packet(&Packet::new(ReplyCode::AckError, 0, 1, &[][..]))
            .unwrap_err();
        assert!(
            matches!(
                e,
                SessionError::Refused {
                    reply: ReplyCode::AckError,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn a_burst_counts_what_it_received_against_its_limit() {
        let mut b = Burst::new(Command::ReadBuffer, 6);
        let prepare = Packet::new(ReplyCode::PrepareData, 0, 2, 6u32.to_le_bytes().to_vec());
        b.on_packet(&prepare).unwrap();
        b.on_packet(&Packet::new(ReplyCode::Data, 0, 2, &b"abcd"[..]))
            .unwrap();
        assert_eq!(b.received(), 4);
        let e = b
            .on_packet(&Packet::new(ReplyCode::Data, 1, 2, &b"efgh"[..]))
            .unwrap_err();
        assert!(
            matches!(&e, SessionError::Unexpected { detail, .. } if detail.contains("at most 2")),
            "{e}"
        );
    }

    #[test]
    fn a_chunk_that_never_completes_ends_with_the_retries_made() {
        let buffer = b"\x08\0\0\0abcdefgh";
        let mut r = BulkReader::new(
            BulkRead::users(),
            BulkLimits {
                chunk_size: 12,
                chunk_retries: 2,
                ..BulkLimits::default()
            },
        );
        let desc = BufferDescriptor::for_buffer(buffer).encode();
        r.on_packet(&Packet::new(ReplyCode::AckOk, 1, 1, desc))
            .unwrap();
        let mut asked = 0;
        let e = loop {
            match r.next_request() {
                Ok(Some(_)) => {
                    asked += 1;
                    // Every chunk gets only half of what it asked for, then ends.
                    let prep = PrepareData {
                        len: 12,
                        packet_size: None,
                    }
                    .encode();
                    r.on_packet(&Packet::new(ReplyCode::PrepareData, 1, 2, prep))
                        .unwrap();
                    r.abandon_chunk();
                }
                Ok(None) => panic!("the buffer never arrived"),
                Err(e) => break e,
            }
        };
        assert_eq!(asked, 3, "the first request and two retries");
        assert_eq!(
            e,
            SessionError::Incomplete {
                expected: 12,
                received: 0,
                retries: 2
            }
        );
    }
}
