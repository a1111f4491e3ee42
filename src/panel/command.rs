//! Command and reply codes (reference §3.1, §3.2) and device error codes (§3.3).
//!
//! Every enum keeps values it does not name in a catch-all variant, so any
//! byte read from the wire converts losslessly and back:
//!
//! ```
//! use zkproto::panel::command::{Command, ErrorCode};
//! assert_eq!(Command::from(0x76u8), Command::ConnectSession);
//! assert_eq!(u8::from(Command::Other(0x42)), 0x42);
//! assert_eq!(ErrorCode::from_byte(0xf3), ErrorCode::CommandNotAvailable);
//! assert_eq!(ErrorCode::WrongPassword.value(), -14);
//! ```

use crate::wire_enum::wire_enum;

wire_enum! {
    /// The command byte (offset 2) of a frame: request codes and reply codes.
    Command: u8, catch_all = Other, unknown = "unknown", sep = " " {
        /// Session-less connect, data = password or nothing.
        Connect = 0x01 => "connect",
        /// Disconnect.
        Disconnect = 0x02 => "disconnect",
        /// SetDeviceParam, data = `k=v,k=v`.
        SetDeviceParam = 0x03 => "set device parameters",
        /// GetDeviceParam, data = `k,k,k`.
        GetDeviceParam = 0x04 => "get device parameters",
        /// ControlDevice, data = 5 bytes (§6).
        ControlDevice = 0x05 => "control device",
        /// Table structure text (§5.1).
        GetTableStruct = 0x06 => "get table structure",
        /// SetDeviceData (§5.4).
        SetData = 0x07 => "set data",
        /// GetDeviceData (§5.2).
        GetData = 0x08 => "get data",
        /// DeleteDeviceData (§5.5).
        DeleteData = 0x09 => "delete data",
        /// GetDeviceDataCount, data = table id.
        GetDataCount = 0x0a => "get data count",
        /// Binary real-time log (§7.1).
        GetRtLog = 0x0b => "get real-time log",
        /// Query data (unused by the known firmware).
        QueryData = 0x0c => "query data",
        /// Big data: announce (also a reply code, §5.6).
        PrepareData = 0x0d => "prepare big data",
        /// Big data: read a chunk.
        ReadData = 0x0e => "read big data chunk",
        /// Big data: finish / execute / release.
        FreeData = 0x0f => "free big data",
        /// Big data: resume (unused by the known firmware).
        PrepareBreakData = 0x10 => "prepare break data",
        /// Big data: write a chunk.
        Data = 0x11 => "write big data chunk",
        /// UDP discovery (`CallSecurityDevice`, §8).
        Broadcast = 0x14 => "search device",
        /// Modify IP by broadcast (§8).
        BroadcastModifyIp = 0x15 => "modify IP address",
        /// SetDeviceFileData.
        SetBinaryData = 0x16 => "set file data",
        /// GetDeviceFileData.
        GetBinaryData = 0x17 => "get file data",
        /// Commit the "new records" read pointer, data = table id.
        GetDataOk = 0x19 => "commit new records",
        /// Alarm cancel (defined, not dispatched by the known firmware).
        AlarmCancel = 0x1b => "alarm cancel",
        /// Connect with session (newer firmware, §2).
        ConnectSession = 0x76 => "connect with session",
        /// Big data: CRC32 of the uploaded buffer and command to run.
        HashData = 0x77 => "hash big data",
        /// Text real-time log (newer firmware, §7.4).
        GetRtLogText = 0x79 => "get text real-time log",
        /// Reply: OK, data follows.
        AckOk = 0xc8 => "ok",
        /// Reply: error, one signed error byte follows.
        AckError = 0xc9 => "error",
    }
}

impl Command {
    /// True for the reply codes `C8` and `C9`.
    ///
    /// ```
    /// use zkproto::panel::Command;
    /// assert!(Command::AckOk.is_reply() && !Command::Connect.is_reply());
    /// ```
    pub const fn is_reply(self) -> bool {
        matches!(self, Command::AckOk | Command::AckError)
    }
}

wire_enum! {
    /// Error codes carried by a `C9` reply (one signed byte, §3.3). Codes the
    /// DLL produces itself (−1…−6, ≤ −100) are included for completeness.
    ErrorCode: i8, catch_all = Other, unknown = "unknown", sep = " " {
        /// Command not sent successfully (DLL).
        NotSent = -1 => "command not sent",
        /// No response (DLL).
        NoResponse = -2 => "no response",
        /// Buffer not enough (DLL).
        BufferTooSmall = -3 => "buffer not enough",
        /// Decompression failed (DLL).
        DecompressFailed = -4 => "decompression failed",
        /// Length of read data not correct (DLL).
        WrongReadLength = -5 => "wrong length of read data",
        /// Decompressed length differs (DLL).
        WrongDecompressedLength = -6 => "wrong decompressed length",
        /// Command repeated.
        CommandRepeated = -7 => "command repeated",
        /// Connection not authorized.
        NotAuthorized = -8 => "connection not authorized",
        /// Data error: CRC check failed.
        CrcFailed = -9 => "CRC check failed",
        /// Data error: cannot parse.
        ParseFailed = -10 => "data cannot be parsed",
        /// Data or parameter error.
        BadParameter = -11 => "data or parameter error",
        /// Command not executed correctly.
        NotExecuted = -12 => "command not executed correctly",
        /// Command not available (unknown command; 0x76 on old firmware).
        CommandNotAvailable = -13 => "command not available",
        /// Communication password not correct.
        WrongPassword = -14 => "wrong communication password",
        /// Write file failed.
        WriteFileFailed = -15 => "write file failed",
        /// Read file failed.
        ReadFileFailed = -16 => "read file failed",
        /// File does not exist.
        FileNotFound = -17 => "file does not exist",
        /// Device has no space.
        NoSpace = -18 => "device has no space",
        /// Checksum error (firmware file).
        ChecksumError = -19 => "checksum error",
        /// Received length differs from announced length.
        LengthMismatch = -20 => "received length differs from announced",
        /// Platform not set in device.
        NoPlatform = -21 => "platform not set",
        /// Firmware file for another platform.
        WrongPlatform = -22 => "firmware for another platform",
        /// Firmware older than installed.
        OldFirmware = -23 => "firmware older than installed",
        /// Firmware file flag wrong.
        BadFirmwareFlag = -24 => "firmware file flag wrong",
        /// File name must be `emfw.cfg`.
        BadFileName = -25 => "file name must be emfw.cfg",
        /// Unknown error.
        Unknown = -99 => "unknown error",
    }
}

impl ErrorCode {
    /// Converts the raw `C9` byte (two's complement).
    pub const fn from_byte(b: u8) -> Self {
        Self::from_value(i8::from_le_bytes([b]))
    }

    /// The raw `C9` byte.
    ///
    /// ```
    /// use zkproto::panel::command::ErrorCode;
    /// assert_eq!(ErrorCode::WrongPassword.to_byte(), 0xf2);
    /// ```
    pub const fn to_byte(self) -> u8 {
        u8::from_le_bytes(self.value().to_le_bytes())
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn all_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::from(c.value()), *c);
        }
        for e in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_byte(e.to_byte()), *e);
        }
        for b in 0..=255u8 {
            assert_eq!(Command::from(b).value(), b);
            assert_eq!(ErrorCode::from_byte(b).to_byte(), b);
        }
    }

    #[test]
    fn display() {
        assert_eq!(
            ErrorCode::CommandNotAvailable.to_string(),
            "command not available (-13)"
        );
        assert_eq!(Command::Other(0x42).to_string(), "unknown (66)");
    }
}
