//! Typed request builders: the command id and data of every request the
//! client sends. A [`Request`] becomes a [`Packet`] once the session assigns
//! the session id and reply id.
//!
//! ```
//! use zkproto::terminal::request::Request;
//! use zkproto::terminal::frame::tcp_frame;
//! // Reference §11.C: CMD_GET_FREE_SIZES, session 0x45CF, reply 2.
//! let frame = tcp_frame(&Request::get_free_sizes().into_packet(0x45CF, 2));
//! assert_eq!(&frame[..], [0x50, 0x50, 0x82, 0x7d, 8, 0, 0, 0, 0x32, 0x00, 0xfc, 0xb9, 0xcf, 0x45, 0x02, 0x00]);
//! ```

use crate::terminal::command::{Command, EventMask, TableId};
use crate::terminal::commkey::{CommKey, make_key};
use crate::terminal::error::EncodeError;
use crate::terminal::packet::{MAX_UDP_DATA, Packet};
use crate::terminal::record::text::{Overflow, TextEncoding};
use crate::terminal::record::time::DeviceTime;
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;

/// A request: command id and data, before ids are assigned.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// The command.
    pub command: Command,
    /// The data after the header.
    pub data: Bytes,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Data may hold PINs (user writes) or comm-key material (auth): length only.
        f.debug_struct("Request")
            .field("command", &self.command)
            .field("data_len", &self.data.len())
            .finish()
    }
}

fn u32_data(v: u32) -> Bytes {
    Bytes::copy_from_slice(&v.to_le_bytes())
}

impl Request {
    /// A request with arbitrary data (escape hatch for commands this crate
    /// does not model).
    pub fn raw(command: impl Into<Command>, data: impl Into<Bytes>) -> Self {
        Request {
            command: command.into(),
            data: data.into(),
        }
    }

    /// A request without data.
    pub fn bare(command: Command) -> Self {
        Request {
            command,
            data: Bytes::new(),
        }
    }

    /// Assigns the session and reply ids.
    pub fn into_packet(self, session_id: u16, reply_id: u16) -> Packet {
        Packet::new(self.command, session_id, reply_id, self.data)
    }

    /// `CMD_CONNECT` (always sent with session 0 and reply id 0).
    pub fn connect() -> Self {
        Self::bare(Command::Connect)
    }
    /// `CMD_EXIT`.
    pub fn exit() -> Self {
        Self::bare(Command::Exit)
    }
    /// `CMD_AUTH` with the comm key scrambled for `session_id` (§3.2).
    pub fn auth(key: CommKey, session_id: u16, tick: u8) -> Self {
        Request::raw(
            Command::Auth,
            Bytes::copy_from_slice(&make_key(key, session_id, tick)),
        )
    }
    /// `CMD_ENABLEDEVICE`.
    pub fn enable_device() -> Self {
        Self::bare(Command::EnableDevice)
    }
    /// `CMD_DISABLEDEVICE`, optionally with a timeout in seconds after which
    /// the device re-enables itself (§3.3).
    pub fn disable_device(timeout_secs: Option<u32>) -> Self {
        match timeout_secs {
            Some(t) => Request::raw(Command::DisableDevice, u32_data(t)),
            None => Self::bare(Command::DisableDevice),
        }
    }
    /// `CMD_RESTART`.
    pub fn restart() -> Self {
        Self::bare(Command::Restart)
    }
    /// `CMD_POWEROFF`.
    pub fn power_off() -> Self {
        Self::bare(Command::PowerOff)
    }
    /// `CMD_REFRESHDATA` (after user/template writes).
    pub fn refresh_data() -> Self {
        Self::bare(Command::RefreshData)
    }
    /// `CMD_REFRESHOPTION` (after option writes).
    pub fn refresh_option() -> Self {
        Self::bare(Command::RefreshOption)
    }
    /// `CMD_TESTVOICE` playing prompt `index`.
    pub fn test_voice(index: u8) -> Self {
        Request::raw(Command::TestVoice, Bytes::copy_from_slice(&[index]))
    }
    /// `CMD_GET_FREE_SIZES`.
    pub fn get_free_sizes() -> Self {
        Self::bare(Command::GetFreeSizes)
    }
    /// `CMD_GET_TIME`.
    pub fn get_time() -> Self {
        Self::bare(Command::GetTime)
    }
    /// `CMD_SET_TIME` with the packed time (§9).
    pub fn set_time(t: &DeviceTime) -> Result<Self, EncodeError> {
        Ok(Request::raw(Command::SetTime, u32_data(t.to_packed()?)))
    }
    /// `CMD_GET_VERSION` (firmware version string).
    pub fn get_version() -> Self {
        Self::bare(Command::GetVersion)
    }
    /// `CMD_GET_PINWIDTH` (maximum user-id length).
    pub fn get_pin_width() -> Self {
        Self::bare(Command::GetPinWidth)
    }
    /// `CMD_STATE_RRQ` (machine state in the reply's session slot).
    pub fn state() -> Self {
        Self::bare(Command::StateRrq)
    }
    /// `CMD_OPTIONS_RRQ` for `name` (`"name\0"`).
    pub fn read_option(name: &str) -> Result<Self, EncodeError> {
        check_option_name(name)?;
        let mut b = BytesMut::with_capacity(name.len() + 1);
        b.put_slice(name.as_bytes());
        b.put_u8(0);
        Ok(Request::raw(Command::OptionsRrq, b.freeze()))
    }
    /// `CMD_OPTIONS_WRQ` `"name=value\0"`.
    pub fn write_option(name: &str, value: &str) -> Result<Self, EncodeError> {
        check_option_name(name)?;
        if value.contains('\0') {
            return Err(EncodeError::Unrepresentable {
                field: "option value",
                encoding: "NUL-terminated text",
            });
        }
        let mut b = BytesMut::with_capacity(name.len() + value.len() + 2);
        b.put_slice(name.as_bytes());
        b.put_u8(b'=');
        b.put_slice(value.as_bytes());
        b.put_u8(0);
        if b.len() > MAX_UDP_DATA {
            return Err(EncodeError::PayloadTooLarge {
                len: b.len(),
                max: MAX_UDP_DATA,
            });
        }
        Ok(Request::raw(Command::OptionsWrq, b.freeze()))
    }
    /// `CMD_REG_EVENT` with an event mask (mask 0 stops events).
    pub fn reg_event(mask: EventMask) -> Self {
        Request::raw(Command::RegEvent, u32_data(mask.bits()))
    }
    /// `CMD_CANCELCAPTURE`.
    pub fn cancel_capture() -> Self {
        Self::bare(Command::CancelCapture)
    }
    /// `CMD_STARTVERIFY` (no data: general verification).
    pub fn start_verify() -> Self {
        Self::bare(Command::StartVerify)
    }
    /// 1503 prepare-buffer with its 11-byte descriptor (§4.1):
    /// compress flag, inner command, two parameters.
    pub fn prepare_buffer(inner: Command, param1: u32, param2: u32) -> Self {
        let mut b = BytesMut::with_capacity(11);
        b.put_u8(1);
        b.put_u16_le(inner.value());
        b.put_u32_le(param1);
        b.put_u32_le(param2);
        Request::raw(Command::PrepareBuffer, b.freeze())
    }
    /// 1504 read a chunk of the prepared buffer (§4.3).
    pub fn read_buffer(offset: u32, len: u32) -> Self {
        let mut b = BytesMut::with_capacity(8);
        b.put_u32_le(offset);
        b.put_u32_le(len);
        Request::raw(Command::ReadBuffer, b.freeze())
    }
    /// `CMD_FREE_DATA`.
    pub fn free_data() -> Self {
        Self::bare(Command::FreeData)
    }
    /// `CMD_PREPARE_DATA` announcing an upload of `len` bytes (§5.1).
    pub fn prepare_data(len: u32) -> Self {
        Request::raw(Command::PrepareData, u32_data(len))
    }
    /// `CMD_DATA` carrying one upload chunk (at most 1024 bytes).
    pub fn data(chunk: Bytes) -> Result<Self, EncodeError> {
        if chunk.len() > MAX_UDP_DATA {
            return Err(EncodeError::PayloadTooLarge {
                len: chunk.len(),
                max: MAX_UDP_DATA,
            });
        }
        Ok(Request::raw(Command::Data, chunk))
    }
    /// `CMD_CHECKSUM_BUFFER` (hash of the uploaded buffer, §4.2.1).
    pub fn checksum_buffer() -> Self {
        Self::bare(Command::ChecksumBuffer)
    }
    /// `CMD_USER_WRQ` with one encoded user record (28 or 72 bytes).
    pub fn write_user(record: Bytes) -> Self {
        Request::raw(Command::UserWrq, record)
    }
    /// `CMD_DELETE_USER` by uid.
    pub fn delete_user(uid: u16) -> Self {
        Request::raw(
            Command::DeleteUser,
            Bytes::copy_from_slice(&uid.to_le_bytes()),
        )
    }
    /// `CMD_CLEAR_DATA`: everything (`None`) or one table.
    pub fn clear_data(table: Option<TableId>) -> Self {
        match table {
            Some(t) => Request::raw(Command::ClearData, Bytes::copy_from_slice(&[t.value()])),
            None => Self::bare(Command::ClearData),
        }
    }
    /// `CMD_CLEAR_ATTLOG`.
    pub fn clear_attendance() -> Self {
        Self::bare(Command::ClearAttLog)
    }
    /// `CMD_CLEAR_OPLOG`.
    pub fn clear_oplog() -> Self {
        Self::bare(Command::ClearOpLog)
    }
    /// `CMD_CLEAR_ADMIN`.
    pub fn clear_admin() -> Self {
        Self::bare(Command::ClearAdmin)
    }
    /// `_CMD_GET_USERTEMP` (88): one template by uid and finger (§4.8).
    pub fn get_template(uid: u16, finger: u8) -> Self {
        let mut b = BytesMut::with_capacity(3);
        b.put_u16_le(uid);
        b.put_u8(finger);
        Request::raw(Command::GetUserTemp, b.freeze())
    }
    /// `CMD_DELETE_USERTEMP` (19): one template by uid and finger.
    pub fn delete_template(uid: u16, finger: u8) -> Self {
        let mut b = BytesMut::with_capacity(3);
        b.put_u16_le(uid);
        b.put_u8(finger);
        Request::raw(Command::DeleteUserTemp, b.freeze())
    }
    /// `_CMD_DEL_USER_TEMP` (134): template(s) by user-id string; finger 13 = all.
    pub fn delete_template_by_user_id(
        user_id: &str,
        finger: u8,
        enc: TextEncoding,
    ) -> Result<Self, EncodeError> {
        let id: [u8; 24] = enc.encode_padded(user_id, "user id", Overflow::Error)?;
        let mut b = BytesMut::with_capacity(25);
        b.put_slice(&id);
        b.put_u8(finger);
        Ok(Request::raw(Command::DelUserTemp, b.freeze()))
    }
    /// `CMD_TMP_WRITE` (87): store the uploaded buffer as a template.
    pub fn template_write(uid: u16, finger: u8, flag: u8, size: u16) -> Self {
        let mut b = BytesMut::with_capacity(6);
        b.put_u16_le(uid);
        b.put_u8(finger);
        b.put_u8(flag);
        b.put_u16_le(size);
        Request::raw(Command::TmpWrite, b.freeze())
    }
    /// 110 with sub-command 12: commit a batch users + templates buffer (§5.3).
    pub fn save_user_templates() -> Self {
        Request::raw(
            Command::SaveUserTemps,
            Bytes::from_static(&[0x0c, 0, 0, 0, 0, 0, 0x08, 0]),
        )
    }
    /// `CMD_UNLOCK` with the raw 4-byte value (unit is firmware-dependent, §8.1).
    pub fn unlock(raw: u32) -> Self {
        Request::raw(Command::Unlock, u32_data(raw))
    }
    /// `CMD_DOORSTATE_RRQ`.
    pub fn door_state() -> Self {
        Self::bare(Command::DoorStateRrq)
    }
}

fn check_option_name(name: &str) -> Result<(), EncodeError> {
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(EncodeError::OutOfRange {
            field: "option name",
            reason: "must be non-empty without '=' or NUL",
        });
    }
    if name.len() + 1 > MAX_UDP_DATA {
        return Err(EncodeError::PayloadTooLarge {
            len: name.len() + 1,
            max: MAX_UDP_DATA,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_requests() {
        let r = Request::read_option("~Platform").unwrap();
        assert_eq!(&r.data[..], b"~Platform\0");
        assert!(Request::read_option("a=b").is_err());
        assert_eq!(
            &Request::write_option("LockOn", "5").unwrap().data[..],
            b"LockOn=5\0"
        );
    }

    #[test]
    fn auth_debug_hides_data() {
        let r = Request::auth(CommKey::new(45), 0x45CF, 0x32);
        assert_eq!(&r.data[..], [0x61, 0xc9, 0x32, 0x3c]);
        assert!(!format!("{r:?}").contains("c9"));
    }
}
