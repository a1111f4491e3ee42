//! The client loop against scripted panels: big-data results that break
//! their announcement, and replies that must not extend the wait.

use super::{Client, ConnectStrategy, Error, Options};
use crate::panel::bigdata::Announce;
use crate::panel::codec::PanelCodec;
use crate::panel::command::Command;
use crate::panel::crc::crc32;
use crate::panel::error::BigDataError;
use crate::panel::frame::Frame;
use crate::panel::session::SessionHeader;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::codec::Framed;

const TIMEOUT: Duration = Duration::from_millis(300);

fn ok(data: impl Into<Bytes>) -> Frame {
    Frame::new(1, Command::AckOk, data)
}

fn options() -> Options {
    Options::new()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .connect_strategy(ConnectStrategy::SessionLess)
}

/// A session-less panel that answers the table-structure request (0x06)
/// with big data: `data` announced with `crc` and served in chunks by
/// `chunk(offset)`. Returns the stream and the commands it saw.
fn big_data_panel(
    data: &'static [u8],
    crc: u32,
    max_chunk: u32,
    chunk: fn(u32) -> Vec<u8>,
) -> (tokio::io::DuplexStream, Arc<Mutex<Vec<Command>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let (client, server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let mut framed = Framed::new(server, PanelCodec::new());
        while let Some(Ok(req)) = framed.next().await {
            if let Ok(mut l) = log.lock() {
                l.push(req.command);
            }
            let reply = match req.command {
                Command::GetTableStruct => {
                    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
                    let a = Announce {
                        compressed: 0,
                        transfer_len: len,
                        original_len: len,
                        crc32: crc,
                        max_chunk,
                    };
                    Frame::new(1, Command::PrepareData, a.encode().to_vec())
                }
                Command::ReadData => {
                    let off = req
                        .data
                        .first_chunk::<4>()
                        .map_or(0, |b| u32::from_le_bytes(*b));
                    ok(chunk(off))
                }
                _ => ok(Bytes::new()),
            };
            if framed.send(reply).await.is_err() {
                return;
            }
        }
    });
    (client, seen)
}

const DATA: &[u8] = b"user=1,Pin=i1\n";

/// `DATA` from `off`, 8 bytes at most, after the echoed offset.
fn honest_chunk(off: u32) -> Vec<u8> {
    let start = usize::try_from(off).unwrap_or(usize::MAX).min(DATA.len());
    let end = (start + 8).min(DATA.len());
    let mut v = off.to_le_bytes().to_vec();
    v.extend_from_slice(DATA.get(start..end).unwrap_or_default());
    v
}

#[tokio::test]
async fn big_data_result_is_reassembled() {
    let (io, seen) = big_data_panel(DATA, crc32(DATA), 8, honest_chunk);
    let mut c = Client::attach(io, options()).await.unwrap();
    let s = c.table_structure().await.unwrap();
    assert_eq!(s.tables.first().map(|t| t.name.as_str()), Some("user"));
    let seen = seen.lock().unwrap().clone();
    let reads = seen.iter().filter(|c| **c == Command::ReadData).count();
    assert_eq!(reads, 2, "{seen:?}");
    assert_eq!(seen.last(), Some(&Command::FreeData));
}

#[tokio::test]
async fn big_data_crc_mismatch_is_a_typed_error() {
    let (io, _) = big_data_panel(DATA, crc32(DATA) ^ 1, 8, honest_chunk);
    let mut c = Client::attach(io, options()).await.unwrap();
    let e = c.table_structure().await.unwrap_err();
    assert_eq!(
        e,
        Error::BigData(BigDataError::CrcMismatch {
            announced: crc32(DATA) ^ 1,
            computed: crc32(DATA)
        })
    );
    assert!(!c.is_closed(), "the connection stays usable");
}

#[tokio::test]
async fn big_data_chunk_for_another_offset_is_refused() {
    // The panel always serves the first chunk.
    let (io, _) = big_data_panel(DATA, crc32(DATA), 8, |_| honest_chunk(0));
    let mut c = Client::attach(io, options()).await.unwrap();
    let e = c.table_structure().await.unwrap_err();
    assert_eq!(
        e,
        Error::BigData(BigDataError::BadChunk {
            offset: 0,
            len: 8,
            expected: 8,
            remaining: DATA.len() - 8
        })
    );
}

#[tokio::test]
async fn big_data_above_the_limit_is_released_unread() {
    let (io, seen) = big_data_panel(DATA, crc32(DATA), 8, honest_chunk);
    let mut c = Client::attach(io, options().max_result(4)).await.unwrap();
    let e = c.table_structure().await.unwrap_err();
    assert_eq!(
        e,
        Error::TooLarge {
            announced: u64::try_from(DATA.len()).unwrap(),
            limit: 4
        }
    );
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.contains(&Command::ReadData), "{seen:?}");
    assert_eq!(seen.last(), Some(&Command::FreeData));
}

/// Stale replies (an old message number) every 50 ms: they are not
/// progress, so the request still times out after one timeout.
#[tokio::test(start_paused = true)]
async fn stale_replies_do_not_extend_the_deadline() {
    let (client, server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let mut framed = Framed::new(server, PanelCodec::new());
        while let Some(Ok(req)) = framed.next().await {
            let Ok((h, _)) = SessionHeader::parse(&req.data) else {
                return;
            };
            if req.command == Command::ConnectSession {
                let reply = SessionHeader::new(0x2014, h.message).to_bytes();
                if framed.send(ok(reply.to_vec())).await.is_err() {
                    return;
                }
                continue;
            }
            let stale = SessionHeader::new(h.session_id, h.message.wrapping_sub(1));
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let mut data = stale.to_bytes().to_vec();
                data.extend_from_slice(b"DateTime=0");
                if framed.send(ok(data)).await.is_err() {
                    return;
                }
            }
        }
    });
    let opts = options().connect_strategy(ConnectStrategy::Session);
    let mut c = Client::attach(client, opts).await.unwrap();
    let started = tokio::time::Instant::now();
    let e = tokio::time::timeout(TIMEOUT * 10, c.time())
        .await
        .expect("the wait ends although stale replies keep coming")
        .unwrap_err();
    assert!(
        matches!(e, Error::Timeout { after, .. } if after == TIMEOUT),
        "{e}"
    );
    let took = started.elapsed();
    assert!(took >= TIMEOUT && took < TIMEOUT * 2, "{took:?}");
    assert!(!c.is_closed(), "session mode: late replies are recognised");
}
