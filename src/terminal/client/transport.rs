//! The byte-moving half of the client: a TCP-style stream (any
//! `AsyncRead + AsyncWrite`) framed with the TCP envelope, or a connected
//! UDP socket. No protocol decisions are made here.

use super::error::Error;
use super::options::Transport;
use crate::net::connect::Io;
use crate::terminal::codec::{CodecError, TcpCodec};
use crate::terminal::error::WireError;
use crate::terminal::frame::{Peek, TCP_HEADER_LEN, encode_tcp};
use crate::terminal::packet::{ChecksumMode, Packet};
use crate::terminal::trace::{Direction, FrameTracer};
use bytes::{Buf, BytesMut};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::UdpSocket;
use tokio_util::codec::{Decoder, Encoder, Framed};

/// A received frame.
#[derive(Debug)]
pub(crate) enum Received {
    /// A packet with a valid checksum (or any checksum in lenient mode).
    Packet(Packet),
    /// A packet whose checksum was wrong; its header fields are still known.
    Corrupt(Packet, WireError),
}

/// [`TcpCodec`] with checksum failures turned into items, so one corrupt
/// frame does not end the stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientCodec {
    inner: TcpCodec,
    lenient: bool,
}

impl Decoder for ClientCodec {
    type Item = Received;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Received>, CodecError> {
        match self.inner.framing.peek(src)? {
            Peek::Incomplete { needed } => {
                src.reserve(needed);
                Ok(None)
            }
            Peek::Complete { frame_len } => {
                let mut frame = src.split_to(frame_len);
                frame.advance(TCP_HEADER_LEN);
                Ok(Some(classify(frame.freeze(), self.lenient)?))
            }
        }
    }
}

fn classify(body: bytes::Bytes, lenient: bool) -> Result<Received, WireError> {
    match Packet::decode_bytes(body.clone(), ChecksumMode::Strict) {
        Ok(p) => Ok(Received::Packet(p)),
        Err(err @ WireError::ChecksumMismatch { .. }) => {
            let p = Packet::decode_bytes(body, ChecksumMode::Lenient)?;
            if lenient {
                Ok(Received::Packet(p))
            } else {
                Ok(Received::Corrupt(p, err))
            }
        }
        Err(e) => Err(e),
    }
}

impl Encoder<Packet> for ClientCodec {
    type Error = CodecError;
    fn encode(&mut self, item: Packet, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.inner.encode(&item, dst)
    }
}

/// Logs a frame at `trace` level (target `zkproto::frames`) as a one-line
/// dump with secrets redacted; the tracer sees every frame either way, so
/// that it knows what later frames carry.
fn trace_packet(tracer: &mut FrameTracer, dir: Direction, p: &Packet, on: bool) {
    if on && tracing::enabled!(target: "zkproto::frames", tracing::Level::TRACE) {
        let line = tracer.dump(dir, p);
        tracing::trace!(target: "zkproto::frames", "{line}");
    } else {
        tracer.observe(dir, p);
    }
}

/// How bytes move.
enum Wire {
    Stream(Framed<Box<dyn Io>, ClientCodec>),
    Udp {
        socket: UdpSocket,
        buf: Vec<u8>,
        lenient: bool,
    },
}

/// The transport of one client, and the tracer of its frames.
pub(crate) struct Link {
    wire: Wire,
    tracer: FrameTracer,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.wire {
            Wire::Stream(_) => f.write_str("Link::Stream"),
            Wire::Udp { socket, .. } => write!(f, "Link::Udp({:?})", socket.peer_addr().ok()),
        }
    }
}

impl Link {
    pub(crate) fn stream<T: Io + 'static>(io: T, max_packet: usize, lenient: bool) -> Link {
        let codec = ClientCodec {
            inner: TcpCodec::with_max_packet(max_packet),
            lenient,
        };
        Link {
            wire: Wire::Stream(Framed::new(Box::new(io) as Box<dyn Io>, codec)),
            tracer: FrameTracer::new(),
        }
    }

    pub(crate) fn udp(socket: UdpSocket, lenient: bool) -> Link {
        Link {
            wire: Wire::Udp {
                socket,
                buf: vec![0; 65_536],
                lenient,
            },
            tracer: FrameTracer::new(),
        }
    }

    pub(crate) fn kind(&self) -> Transport {
        match self.wire {
            Wire::Stream(_) => Transport::Tcp,
            Wire::Udp { .. } => Transport::Udp,
        }
    }

    /// Bytes waiting in the receive buffer.
    pub(crate) fn buffered(&self) -> usize {
        match &self.wire {
            Wire::Stream(f) => f.read_buffer().len(),
            Wire::Udp { .. } => 0,
        }
    }

    pub(crate) async fn send(&mut self, p: &Packet, trace: bool) -> Result<(), Error> {
        trace_packet(&mut self.tracer, Direction::Sent, p, trace);
        match &mut self.wire {
            Wire::Stream(f) => f.send(p.clone()).await.map_err(codec_err),
            Wire::Udp { socket, .. } => {
                socket.send(&p.to_bytes()).await?;
                Ok(())
            }
        }
    }

    /// Sends without waiting: queues the frame and makes one attempt to
    /// flush it (TCP), or tries one datagram (UDP). Returns whether the
    /// frame is on its way.
    pub(crate) fn send_now(&mut self, p: &Packet, trace: bool) -> bool {
        trace_packet(&mut self.tracer, Direction::Sent, p, trace);
        match &mut self.wire {
            Wire::Stream(f) => {
                encode_tcp(p, f.write_buffer_mut());
                let _ = SinkExt::<Packet>::flush(f).now_or_never();
                true
            }
            Wire::Udp { socket, .. } => socket.try_send(&p.to_bytes()).is_ok(),
        }
    }

    /// Receives one frame; `Ok(None)` when the stream closed.
    pub(crate) async fn recv(&mut self, trace: bool) -> Result<Option<Received>, Error> {
        let r = match &mut self.wire {
            Wire::Stream(f) => match f.next().await {
                None => return Ok(None),
                Some(r) => r.map_err(codec_err)?,
            },
            Wire::Udp {
                socket,
                buf,
                lenient,
            } => loop {
                let n = socket.recv(buf).await?;
                let datagram = buf.get(..n).unwrap_or_default();
                if datagram.first() == Some(&0xAA) && datagram.last() == Some(&0x55) {
                    return Err(WireError::LooksLikeC3Panel.into());
                }
                match classify(bytes::Bytes::copy_from_slice(datagram), *lenient) {
                    Ok(r) => break r,
                    Err(e) => tracing::debug!(len = n, error = %e, "ignoring undecodable datagram"),
                }
            },
        };
        let (Received::Packet(p) | Received::Corrupt(p, _)) = &r;
        trace_packet(&mut self.tracer, Direction::Received, p, trace);
        Ok(Some(r))
    }

    /// A frame that is already buffered or ready, without waiting.
    pub(crate) fn recv_ready(&mut self, trace: bool) -> Option<Result<Option<Received>, Error>> {
        self.recv(trace).now_or_never()
    }
}

fn codec_err(e: CodecError) -> Error {
    match e {
        CodecError::Io(e) => Error::io(&e),
        CodecError::Frame(w) => w.into(),
        CodecError::Encode(e) => Error::Encode(e),
    }
}
