//! Buffered transfers of the device model: bulk reads (`1503`/`1504`,
//! reference §4), direct table reads (§4.7), uploads (`CMD_PREPARE_DATA` /
//! `CMD_DATA`, §5.1) and template commands (§4.8, §5.3, §5.4).

use super::{Device, MAX_UPLOAD, Outgoing, PeerKey, Transport, Upload, le_u16_at, le_u32_at};
use crate::terminal::command::{Command, ReplyCode, TableId};
use crate::terminal::packet::{MAX_UDP_DATA, Packet};
use crate::terminal::record::attendance::encode_attendance_table;
use crate::terminal::record::bulk::{BufferDescriptor, BulkRead, PrepareData, ReadChunk};
use crate::terminal::record::template::{
    Template, TemplateWrite, encode_template_table, parse_batch_upload,
};
use crate::terminal::record::user::encode_users;
use crate::terminal::sim::fault::Fault;
use bytes::{Bytes, BytesMut};

impl Device {
    /// Builds a table buffer (u32 total + records) for a bulk read, or
    /// `None` when the table is not supported. An unchanged table is not
    /// encoded again ([`tables`](super::tables)).
    pub(super) fn table(
        &mut self,
        inner: Command,
        fct: u8,
    ) -> Option<Result<Bytes, crate::terminal::EncodeError>> {
        let which = match (inner, TableId::from(fct)) {
            (Command::AttLogRrq, _) | (Command::DbRrq, TableId::AttLog) => TableId::AttLog,
            (Command::OpLogRrq, _) | (Command::DbRrq, TableId::OpLog) => TableId::OpLog,
            (Command::UserTempRrq | Command::DbRrq, TableId::User) => TableId::User,
            (Command::UserTempRrq | Command::DbRrq, TableId::FingerTmp) => TableId::FingerTmp,
            _ => return None,
        };
        Some(match which {
            TableId::AttLog => self
                .state
                .table(which, |s| encode_attendance_table(&s.attendance)),
            TableId::User => self.state.table(which, |s| Ok(encode_users(&s.users))),
            TableId::FingerTmp => self
                .state
                .table(which, |s| encode_template_table(&s.templates)),
            _ => Ok(Bytes::from_static(&[0, 0, 0, 0])),
        })
    }

    pub(super) fn prepare_buffer(&mut self, peer: PeerKey, p: &Packet) -> Vec<Outgoing> {
        let Ok(req) = BulkRead::parse(&p.data) else {
            return self.err(p);
        };
        let fct = (req.param1 & 0xFF) as u8;
        let buf = match self.table(req.inner_command(), fct) {
            Some(Ok(b)) if b.len() > 4 => b,
            _ => return self.err(p),
        };
        let announce = self.take_once(|f| match f {
            Fault::AnnounceSize(n) => Some(*n),
            _ => None,
        });
        if let Some(s) = self.sessions.get_mut(&peer) {
            s.read_buf = Some(buf.clone());
        }
        if buf.len() <= MAX_UDP_DATA && announce.is_none() {
            return vec![self.reply(p, ReplyCode::Data, buf)];
        }
        let size = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let mut desc = BufferDescriptor {
            compressed: 0,
            size,
            original_size: size,
            hash: self.state.hash(&buf),
        };
        if let Some(n) = announce {
            desc.size = n;
            desc.original_size = n;
        }
        self.ok_data(p, desc.encode())
    }

    pub(super) fn read_buffer(&mut self, peer: PeerKey, p: &Packet) -> Vec<Outgoing> {
        let Ok(chunk) = ReadChunk::parse(&p.data) else {
            return self.err(p);
        };
        let Some(buf) = self.sessions.get(&peer).and_then(|s| s.read_buf.clone()) else {
            return self.err(p);
        };
        if !chunk.fits(u32::try_from(buf.len()).unwrap_or(u32::MAX)) {
            return self.err(p);
        }
        let (Ok(start), Ok(len)) = (usize::try_from(chunk.offset), usize::try_from(chunk.len))
        else {
            return self.err(p);
        };
        let Some(end) = start.checked_add(len).filter(|&e| e <= buf.len()) else {
            return self.err(p);
        };
        let data = buf.slice(start..end);
        if len <= MAX_UDP_DATA {
            return vec![self.reply(p, ReplyCode::Data, data)];
        }
        let psize = self.psize(peer.transport());
        self.burst(p, data, psize, p.session_id)
    }

    pub(super) fn psize(&self, t: Transport) -> usize {
        match t {
            Transport::Udp => MAX_UDP_DATA,
            Transport::Tcp => usize::try_from(self.profile.tcp_burst_packet_size)
                .unwrap_or(MAX_UDP_DATA)
                .max(1),
        }
    }

    /// `CMD_PREPARE_DATA` + `CMD_DATA`×n (packet index in the session slot)
    /// + `CMD_ACK_OK` with `ack_slot`, all with the request's reply id.
    pub(super) fn burst(
        &mut self,
        p: &Packet,
        data: Bytes,
        psize: usize,
        ack_slot: u16,
    ) -> Vec<Outgoing> {
        let psize = psize.max(1);
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let prep = PrepareData {
            len,
            packet_size: Some(u32::try_from(psize).unwrap_or(u32::MAX)),
        };
        let close_after = self.take_once(|f| match f {
            Fault::CloseMidBulk { after_data_packets } => Some(*after_data_packets),
            _ => None,
        });
        let mut out = Vec::with_capacity(data.len() / psize + 2);
        out.push(self.reply(p, ReplyCode::PrepareData, prep.encode()));
        if close_after == Some(0) {
            if let Some(o) = out.last_mut() {
                o.close_after = true;
            }
            return out;
        }
        let mut start = 0;
        let mut index: u16 = 0;
        while start < data.len() {
            let end = (start + psize).min(data.len());
            out.push(Outgoing::new(Packet::new(
                ReplyCode::Data,
                index,
                p.reply_id,
                data.slice(start..end),
            )));
            start = end;
            index = index.wrapping_add(1);
            if close_after.is_some_and(|n| usize::from(index) >= n || start >= data.len()) {
                if let Some(o) = out.last_mut() {
                    o.close_after = true;
                }
                return out;
            }
        }
        out.push(self.reply_slot(p, ReplyCode::AckOk, ack_slot, Bytes::new()));
        out
    }

    /// Older direct table reads (§4.7): the table as a burst, the closing
    /// `CMD_ACK_OK` carrying `size & 0xFFFF`.
    pub(super) fn direct_table(&mut self, peer: PeerKey, p: &Packet) -> Vec<Outgoing> {
        let cmd = p.command();
        let fct = match cmd {
            Command::UserTempRrq => p.data.first().copied().unwrap_or(TableId::User.value()),
            Command::DbRrq => match p.data.first() {
                Some(&b) => b,
                None => return self.err(p),
            },
            _ => 0,
        };
        let buf = match self.table(cmd, fct) {
            Some(Ok(b)) => b,
            _ => return self.err(p),
        };
        let slot = (buf.len() & 0xFFFF) as u16;
        let psize = self.psize(peer.transport());
        self.burst(p, buf, psize, slot)
    }

    pub(super) fn get_template(
        &mut self,
        peer: PeerKey,
        p: &Packet,
        with_flag: bool,
    ) -> Vec<Outgoing> {
        let (Some(uid), Some(&finger)) = (le_u16_at(&p.data, 0), p.data.get(2)) else {
            return self.err(p);
        };
        let Some(t) = self
            .state
            .templates
            .iter()
            .find(|t| t.uid == uid && t.finger == finger)
            .cloned()
        else {
            return self.err(p);
        };
        let data = if with_flag {
            let mut b = BytesMut::from(&t.data[..]);
            b.extend_from_slice(&[t.flag]);
            b.freeze()
        } else {
            t.data
        };
        if data.len() <= MAX_UDP_DATA {
            return vec![self.reply(p, ReplyCode::Data, data)];
        }
        let psize = self.psize(peer.transport());
        let slot = p.session_id;
        self.burst(p, data, psize, slot)
    }

    pub(super) fn prepare_upload(&mut self, peer: PeerKey, p: &Packet) -> Vec<Outgoing> {
        match PrepareData::parse(&p.data) {
            Ok(pd) if pd.len <= MAX_UPLOAD => {
                let expected = usize::try_from(pd.len).unwrap_or(0);
                if let Some(s) = self.sessions.get_mut(&peer) {
                    s.upload = Some(Upload {
                        expected,
                        data: BytesMut::with_capacity(expected.min(64 * 1024)),
                    });
                }
                self.ok(p)
            }
            _ => self.err(p),
        }
    }

    pub(super) fn upload_chunk(&mut self, peer: PeerKey, p: &Packet) -> Vec<Outgoing> {
        let Some(s) = self.sessions.get_mut(&peer) else {
            return Vec::new();
        };
        let in_sequence = s.seq.is_next_upload(p.reply_id);
        let ok = match s.upload.as_mut() {
            Some(u) if in_sequence && u.data.len() + p.data.len() <= u.expected => {
                u.data.extend_from_slice(&p.data);
                true
            }
            _ => false,
        };
        if ok { self.ok(p) } else { self.err(p) }
    }

    pub(super) fn upload_data(&self, peer: &PeerKey) -> Option<Bytes> {
        self.sessions
            .get(peer)
            .and_then(|s| s.upload.as_ref())
            .map(|u| Bytes::copy_from_slice(&u.data))
    }

    pub(super) fn checksum_buffer(&mut self, peer: PeerKey, p: &Packet) -> Vec<Outgoing> {
        let buf = self
            .upload_data(&peer)
            .or_else(|| self.sessions.get(&peer).and_then(|s| s.read_buf.clone()));
        let Some(buf) = buf else {
            return self.err(p);
        };
        let h = self.state.hash(&buf);
        match le_u32_at(&p.data, 0) {
            Some(want) if p.data.len() == 4 => {
                if want == h {
                    self.ok(p)
                } else {
                    self.err(p)
                }
            }
            _ => self.ok_data(p, Bytes::copy_from_slice(&h.to_le_bytes())),
        }
    }

    pub(super) fn save_batch(&mut self, peer: PeerKey, p: &Packet) -> Vec<Outgoing> {
        if le_u32_at(&p.data, 0) != Some(12) {
            return self.err_code(p, 5);
        }
        let Some(buf) = self.upload_data(&peer) else {
            return self.err_code(p, 2);
        };
        if buf.is_empty() {
            return self.err_code(p, 1);
        }
        match parse_batch_upload(&buf, self.profile.user_layout) {
            Ok((users, templates)) => {
                for u in users {
                    self.state.put_user(u);
                }
                for t in templates {
                    self.state.put_template(t);
                }
                self.dirty = true;
                self.ok(p)
            }
            Err(_) => self.err_code(p, 3),
        }
    }

    /// `CMD_TMP_WRITE` (header 6 bytes: uid, finger, flag, size) and
    /// `CMD_USERTEMP_WRQ` (header 5 bytes: uid, finger, size): the template
    /// follows inline or comes from the upload buffer.
    pub(super) fn template_write(
        &mut self,
        peer: PeerKey,
        p: &Packet,
        header: usize,
        has_flag: bool,
    ) -> Vec<Outgoing> {
        let d = &p.data;
        let (uid, finger, flag, size) = if has_flag {
            match TemplateWrite::parse(d) {
                Ok((tw, _)) => (tw.uid, tw.finger, tw.flag, usize::from(tw.size)),
                Err(_) => return self.err(p),
            }
        } else {
            match (le_u16_at(d, 0), d.get(2), le_u16_at(d, 3)) {
                (Some(uid), Some(&f), Some(size)) => (uid, f, 1, usize::from(size)),
                _ => return self.err(p),
            }
        };
        let inline = d.get(header..).unwrap_or_default();
        let source = if inline.is_empty() {
            self.upload_data(&peer)
        } else {
            Some(Bytes::copy_from_slice(inline))
        };
        let Some(data) = source.and_then(|b| (b.len() >= size).then(|| b.slice(..size))) else {
            return self.err(p);
        };
        if data.is_empty() || data.len() > crate::terminal::record::template::MAX_TEMPLATE_LEN {
            return self.err(p);
        }
        let flag = if flag == 0 { 1 } else { flag & 3 };
        self.state.put_template(Template {
            uid,
            finger,
            flag,
            data,
        });
        self.dirty = true;
        self.ok(p)
    }
}
