//! Big-data transfers of the panel model (§5.6): a reply too large for one
//! frame is announced with `0D` and read in chunks; uploads are received in
//! chunks and checked.

use super::{Conn, Device, MAX_UPLOAD, Mode, PeerKey, Step, Upload};
use crate::panel::bigdata::Announce;
use crate::panel::command::{Command, ErrorCode};
use crate::panel::crc::crc32;
use bytes::{BufMut, Bytes, BytesMut};
use std::time::Instant;

impl Device {
    pub(super) fn maybe_big(&mut self, peer: PeerKey, data: Bytes) -> Step {
        let max = self
            .conns
            .get(&peer)
            .map_or(self.profile.max_reply, |c| c.max_len);
        if data.len() <= max {
            return Step::ok(data);
        }
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let announce = Announce {
            compressed: 0,
            transfer_len: len,
            original_len: len,
            crc32: crc32(&data),
            max_chunk: u32::try_from(max.saturating_sub(12).max(1)).unwrap_or(u32::MAX),
        };
        match self.conns.get_mut(&peer) {
            Some(c) => c.download = Some(data),
            None => {
                self.conns.insert(
                    peer,
                    Conn {
                        mode: Mode::Idle,
                        download: Some(data),
                        upload: None,
                        max_len: self.profile.max_reply,
                        lagged: None,
                    },
                );
            }
        }
        Step {
            code: Command::PrepareData,
            payload: Bytes::copy_from_slice(&announce.encode()),
            close: false,
        }
    }

    pub(super) fn conn_mut(&mut self, peer: PeerKey) -> &mut Conn {
        let max_len = self.profile.max_reply;
        self.conns.entry(peer).or_insert_with(|| Conn {
            mode: Mode::Idle,
            download: None,
            upload: None,
            max_len,
            lagged: None,
        })
    }

    pub(super) fn download_chunk(&mut self, peer: PeerKey, payload: &[u8]) -> Step {
        let Some(off) = payload.first_chunk::<4>().map(|b| u32::from_le_bytes(*b)) else {
            return Step::err(ErrorCode::BadParameter);
        };
        let conn = self.conn_mut(peer);
        let chunk = conn.max_len.saturating_sub(12).max(1);
        let Some(buf) = &conn.download else {
            return Step::err(ErrorCode::BadParameter);
        };
        let off = usize::try_from(off).unwrap_or(usize::MAX);
        if off >= buf.len() {
            return Step::err(ErrorCode::BadParameter);
        }
        let end = off.saturating_add(chunk).min(buf.len());
        let mut out = BytesMut::with_capacity(end - off + 4);
        out.put_u32_le(u32::try_from(off).unwrap_or(u32::MAX));
        out.put_slice(buf.get(off..end).unwrap_or_default());
        Step::ok(out.freeze())
    }

    pub(super) fn upload_begin(&mut self, peer: PeerKey, payload: &[u8]) -> Step {
        let (Some(total), Some(chunk)) = (
            payload.first_chunk::<4>().map(|b| u32::from_le_bytes(*b)),
            payload
                .get(4..8)
                .and_then(|b| b.first_chunk::<4>())
                .map(|b| u32::from_le_bytes(*b)),
        ) else {
            return Step::err(ErrorCode::BadParameter);
        };
        let total = usize::try_from(total).unwrap_or(usize::MAX);
        if total > MAX_UPLOAD {
            return Step::err(ErrorCode::BadParameter);
        }
        let conn = self.conn_mut(peer);
        conn.upload = Some(Upload {
            data: vec![0; total],
            command: None,
        });
        conn.max_len = usize::try_from(chunk)
            .unwrap_or(usize::MAX)
            .clamp(64, 60_000);
        Step::ok(Bytes::new())
    }

    pub(super) fn upload_chunk(&mut self, peer: PeerKey, payload: &[u8]) -> Step {
        let Some((off, bytes)) = payload.split_first_chunk::<4>() else {
            return Step::err(ErrorCode::BadParameter);
        };
        let off = usize::try_from(u32::from_le_bytes(*off)).unwrap_or(usize::MAX);
        let Some(up) = self.conn_mut(peer).upload.as_mut() else {
            return Step::err(ErrorCode::BadParameter);
        };
        match up.data.get_mut(off..off.saturating_add(bytes.len())) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                Step::ok(Bytes::new())
            }
            None => Step::err(ErrorCode::BadParameter),
        }
    }

    pub(super) fn upload_hash(&mut self, peer: PeerKey, payload: &[u8]) -> Step {
        let Some(up) = self.conn_mut(peer).upload.as_mut() else {
            return Step::err(ErrorCode::BadParameter);
        };
        up.command = payload.first().copied();
        Step::ok(Bytes::copy_from_slice(&crc32(&up.data).to_le_bytes()))
    }

    pub(super) fn free_data(&mut self, peer: PeerKey, _now: Instant) -> Step {
        let conn = self.conn_mut(peer);
        conn.download = None;
        let Some(up) = conn.upload.take() else {
            return Step::ok(Bytes::new());
        };
        let data = Bytes::from(up.data);
        match up.command {
            Some(7) => match self.state.set_data(
                &data,
                self.profile.max_write_cell.max(255),
                self.profile.user_capacity,
            ) {
                Ok(()) => Step::ok(Bytes::new()),
                Err(e) => Step::err(e),
            },
            Some(9) => {
                self.state.delete(data);
                Step::ok(Bytes::new())
            }
            Some(22) => Step::err(ErrorCode::BadFileName),
            _ => Step::ok(Bytes::new()),
        }
    }
}
