//! Malformed input for the C3/inBio panel layer: bad CRC, bad end byte, lying
//! length, garbage before a frame, truncated rows and records. Nothing may panic.

use bytes::Bytes;
use proptest::prelude::*;
use zkproto::detect::{PeerKind, classify};
use zkproto::panel::error::{DecodeError, FrameError};
use zkproto::panel::params::ParamList;
use zkproto::panel::rtlog::{RtRecord, TextRecord};
use zkproto::panel::session::{ConnectMode, PanelSession};
use zkproto::panel::table::{DeleteRequest, GetDataRequest, RowSet, TableStructure};
use zkproto::panel::{Command, Frame, ReplyError, SessionHeader};

fn golden() -> Vec<Vec<u8>> {
    include_str!("vectors/panel/frames.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| hex::decode(l.split('|').nth(2).unwrap().trim()).unwrap())
        .collect()
}

#[test]
fn reference_fixtures_with_bad_crc() {
    // c3-panel.md §1.4: "Fixtures with a bad CRC (edited by hand)"
    let a = hex::decode("aa02c8000081fe55").unwrap();
    assert_eq!(
        Frame::decode(&a),
        Err(FrameError::CrcMismatch {
            computed: 0x4680,
            received: 0xfe81
        })
    );
    let b = hex::decode("aa01c802004ac797c355").unwrap();
    assert!(matches!(
        Frame::decode(&b),
        Err(FrameError::CrcMismatch {
            received: 0xc397,
            ..
        })
    ));
    assert_eq!(classify(&a), PeerKind::Unknown);
}

#[test]
fn every_single_byte_corruption_of_every_golden_frame_is_rejected() {
    for bytes in golden() {
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x5a;
            assert!(
                Frame::decode(&bad).is_err(),
                "byte {i} of {}",
                hex::encode(&bytes)
            );
        }
        assert!(matches!(
            Frame::decode(&bytes[..bytes.len() - 1]),
            Err(FrameError::Truncated { .. })
        ));
    }
}

#[test]
fn bad_end_byte_and_lying_length() {
    let mut f = hex::decode("aa01c80000800255").unwrap();
    *f.last_mut().unwrap() = 0x00;
    assert_eq!(
        Frame::decode(&f),
        Err(FrameError::BadEnd {
            found: 0,
            offset: 7
        })
    );
    // length says 4, only 2 data bytes follow before a CRC and end byte
    let lying = hex::decode("aa01c804000102030455").unwrap();
    assert!(matches!(
        Frame::decode(&lying),
        Err(FrameError::Truncated { need: 12, got: 10 })
    ));
    // length says 0 but data follows
    let short = hex::decode("aa01c80000800255ff").unwrap();
    assert_eq!(
        Frame::decode(&short),
        Err(FrameError::TrailingBytes { extra: 1 })
    );
}

#[cfg(feature = "codec")]
#[test]
fn codec_skips_garbage_and_invalid_candidates() {
    use tokio_util::codec::Decoder;
    use zkproto::panel::codec::PanelCodec;
    let good = golden();
    let mut stream = b"\x00\xff\xaa\xaa junk \xaa\x01\xc8\xff\xff".to_vec(); // garbage, then a lying length
    stream.extend_from_slice(&good[0]);
    stream.extend_from_slice(&hex::decode("aa02c8000081fe55").unwrap()); // bad CRC
    stream.extend_from_slice(&good[1]);
    let mut codec = PanelCodec::new().with_max_data(4096);
    let mut buf = bytes::BytesMut::from(&stream[..]);
    let a = codec.decode(&mut buf).unwrap().unwrap();
    let b = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(a.to_bytes().unwrap().to_vec(), good[0]);
    assert_eq!(b.to_bytes().unwrap().to_vec(), good[1]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(buf.is_empty());
}

#[test]
fn truncated_rows_and_records() {
    // B11 user rows with the last byte missing
    let rows = hex::decode(
        "0109010203040506070801010387D6120376543200010001000100000100010203a1a3a303b1b2b3000100042a893401049fb034010001",
    )
    .unwrap();
    assert!(matches!(
        RowSet::parse(Bytes::from(rows)),
        Err(DecodeError::Truncated {
            what: "row cell",
            ..
        })
    ));
    // field list longer than the data
    assert!(matches!(
        RowSet::parse(Bytes::from_static(&[1, 9, 1, 2])),
        Err(DecodeError::Truncated { .. })
    ));
    assert!(GetDataRequest::parse(Bytes::from_static(&[1, 1, 1, 0, 1, 3, 2, 0x1f])).is_err());
    assert!(DeleteRequest::parse(Bytes::from_static(&[1, 1, 3, 2, 0x1f])).is_err());
    assert!(matches!(
        RtRecord::decode_all(&[0u8; 20]),
        Err(DecodeError::BadLength { len: 20, .. })
    ));
    assert!(TextRecord::parse_all(b"time=2023-12-06 22:33:15\tpin=0\tevent=").is_err());
    assert!(TableStructure::parse(b"user=1,Pin=i").is_err());
    assert!(ParamList::parse(b"LockCount").is_err());
    assert!(SessionHeader::parse(&[1, 2, 3]).is_err());
}

#[test]
fn session_rejects_short_and_foreign_replies() {
    let mut s = PanelSession::new();
    s.connect(ConnectMode::Session, b"").unwrap();
    assert!(matches!(
        s.handle_reply(&Frame::new(1, Command::AckOk, &[1, 2][..])),
        Err(ReplyError::MissingHeader { len: 2, .. })
    ));
    assert!(matches!(
        s.handle_reply(&Frame::new(1, Command::AckOk, &[1, 2, 0, 0][..])),
        Err(ReplyError::Stale { .. })
    ));
}

proptest! {
    #[test]
    fn nothing_panics_on_random_input(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Frame::decode(&data);
        let _ = Frame::parse(&data);
        let _ = classify(&data);
        let b = Bytes::from(data.clone());
        let _ = RowSet::parse(b.clone());
        let _ = GetDataRequest::parse(b.clone());
        let _ = DeleteRequest::parse(b);
        let _ = RtRecord::decode_all(&data);
        let _ = TextRecord::parse_all(&data);
        let _ = TableStructure::parse(&data);
        let _ = ParamList::parse(&data);
        let mut s = PanelSession::new();
        s.connect(ConnectMode::Session, b"").unwrap();
        if let Ok(f) = Frame::decode(&data) {
            let _ = s.handle_reply(&f);
        }
        let _ = s.handle_reply(&Frame::new(data.first().copied().unwrap_or(0), Command::from(data.get(1).copied().unwrap_or(0xc8)), data.clone()));
    }

    #[test]
    fn random_prefix_then_frame(garbage in proptest::collection::vec(any::<u8>(), 0..40), data in proptest::collection::vec(any::<u8>(), 0..40)) {
        let f = Frame::new(1, Command::AckOk, data).to_bytes().unwrap();
        let stream = [&garbage[..], &f[..]].concat();
        // Frame::decode on the whole stream must fail unless the garbage is empty
        if !garbage.is_empty() {
            prop_assert!(Frame::decode(&stream).is_err());
        }
    }
}
