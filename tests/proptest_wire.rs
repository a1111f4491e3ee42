//! Property tests of the wire layer: packet encode/decode round trips, the
//! TCP/UDP/serial codecs under arbitrary chunking, the fast checksum against
//! the reference implementation, comm-key scrambling, packed device time and
//! the reply-id rules.

use proptest::collection::vec;
use proptest::prelude::*;
use zkproto::terminal::checksum::{checksum, checksum_reference, checksum_skipping};
use zkproto::terminal::commkey::{CommKey, check_key, make_key};
use zkproto::terminal::record::time::DeviceTime;
use zkproto::terminal::sequence::{DeviceSequence, ReplyIdCounter, Verdict};
use zkproto::terminal::{ChecksumMode, Packet, WireError};

fn packet() -> impl Strategy<Value = Packet> {
    (
        any::<u16>(),
        any::<u16>(),
        any::<u16>(),
        vec(any::<u8>(), 0..=2048),
    )
        .prop_map(|(code, session, reply, data)| Packet::new(code, session, reply, data))
}

/// Raw packet bytes: an 8-byte header and up to 2048 data bytes, with the
/// checksum field either left as generated or set to the correct value.
fn raw_packet() -> impl Strategy<Value = Vec<u8>> {
    (vec(any::<u8>(), 8..=2056), any::<bool>()).prop_map(|(mut raw, fix)| {
        if fix {
            let sum = checksum_skipping(&raw, 2).unwrap_or(0).to_le_bytes();
            raw[2] = sum[0];
            raw[3] = sum[1];
        }
        raw
    })
}

/// Split points for a buffer of `len` bytes: sorted cut offsets.
fn cuts(len: usize, raw: &[usize]) -> Vec<usize> {
    let mut c: Vec<usize> = raw
        .iter()
        .map(|r| if len == 0 { 0 } else { r % (len + 1) })
        .collect();
    c.push(0);
    c.push(len);
    c.sort_unstable();
    c.dedup();
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn packet_encode_decode_round_trip(p in packet()) {
        let bytes = p.to_bytes();
        prop_assert_eq!(bytes.len(), p.encoded_len());
        prop_assert_eq!(u16::from_le_bytes([bytes[2], bytes[3]]), p.checksum());
        prop_assert_eq!(Packet::decode(&bytes, ChecksumMode::Strict), Ok(p.clone()));
        prop_assert_eq!(Packet::decode_bytes(bytes, ChecksumMode::Strict), Ok(p));
    }

    #[test]
    fn decoded_bytes_reencode_identically(raw in raw_packet()) {
        match Packet::decode(&raw, ChecksumMode::Strict) {
            Ok(p) => prop_assert_eq!(&p.to_bytes()[..], &raw[..]),
            Err(e) => {
                let expected = checksum_skipping(&raw, 2).unwrap_or(0);
                prop_assert_eq!(
                    e,
                    WireError::ChecksumMismatch {
                        what: "packet",
                        expected,
                        received: u16::from_le_bytes([raw[2], raw[3]]),
                    }
                );
                // Lenient mode keeps the fields and data but re-encodes with the right checksum.
                let p = Packet::decode(&raw, ChecksumMode::Lenient).unwrap();
                let again = p.to_bytes();
                prop_assert_eq!(&again[..2], &raw[..2]);
                prop_assert_eq!(&again[4..], &raw[4..]);
            }
        }
    }

    #[test]
    fn short_buffers_are_truncated_errors(raw in vec(any::<u8>(), 0..8)) {
        prop_assert_eq!(
            Packet::decode(&raw, ChecksumMode::Lenient),
            Err(WireError::Truncated { what: "packet header", need: 8, got: raw.len() })
        );
    }

    #[test]
    fn fast_checksum_matches_reference(data in vec(any::<u8>(), 0..4096)) {
        prop_assert_eq!(checksum(&data), checksum_reference(&data));
    }

    #[test]
    fn fast_checksum_matches_reference_on_carry_heavy_input(len in 0usize..200_000, fill in 0xF0u8..=0xFF) {
        let data = vec![fill; len];
        prop_assert_eq!(checksum(&data), checksum_reference(&data));
    }

    #[test]
    fn checksum_skipping_equals_checksum_of_zeroed_copy(data in vec(any::<u8>(), 0..512), field in 0usize..520) {
        match checksum_skipping(&data, field) {
            Some(sum) => {
                let mut z = data.clone();
                z[field] = 0;
                z[field + 1] = 0;
                prop_assert_eq!(sum, checksum_reference(&z));
            }
            None => prop_assert!(field + 2 > data.len()),
        }
    }

    #[test]
    fn commkey_make_then_check(key in any::<u32>(), session in any::<u16>(), tick in any::<u8>()) {
        let auth = make_key(CommKey::new(key), session, tick);
        prop_assert_eq!(auth[2], tick);
        prop_assert!(check_key(&auth, CommKey::new(key), session));
        let mut longer = auth.to_vec();
        longer.push(0);
        prop_assert!(!check_key(&longer, CommKey::new(key), session));
        prop_assert!(!check_key(&auth[..3], CommKey::new(key), session));
    }

    #[test]
    fn commkey_rejects_keys_differing_in_checked_bytes(
        key in any::<u32>(),
        session in any::<u16>(),
        tick in any::<u8>(),
        delta in 1u32..(1 << 24),
    ) {
        // Only bytes 1-3 of reverse_bits(key) + session reach the checked
        // auth bytes; any change there must be refused.
        let other = key.reverse_bits().wrapping_add(delta << 8).reverse_bits();
        let auth = make_key(CommKey::new(key), session, tick);
        prop_assert!(!check_key(&auth, CommKey::new(other), session));
    }

    #[test]
    fn device_time_packed_round_trip(
        year in 2000u16..=2099, month in 1u8..=12, day in 1u8..=31,
        hour in 0u8..24, minute in 0u8..60, second in 0u8..60,
    ) {
        let t = DeviceTime::new(year, month, day, hour, minute, second);
        let packed = t.to_packed().unwrap();
        prop_assert_eq!(DeviceTime::from_packed(packed), t);
    }

    #[test]
    fn packed_values_below_2100_round_trip(packed in 0u32..(100 * 12 * 31 * 86_400)) {
        let t = DeviceTime::from_packed(packed);
        prop_assert_eq!(t.to_packed(), Ok(packed));
    }

    #[test]
    fn packed_values_from_2100_are_refused(packed in (100 * 12 * 31 * 86_400u32)..=u32::MAX) {
        prop_assert!(DeviceTime::from_packed(packed).to_packed().is_err());
    }

    #[test]
    fn device_time_event_bytes_round_trip(b in any::<[u8; 6]>()) {
        prop_assert_eq!(DeviceTime::from_event_bytes(b).to_event_bytes(), Ok(b));
    }

    #[test]
    fn client_counter_increments_by_one_wrapping(steps in 1usize..200, start_near_wrap in any::<bool>()) {
        let mut c = ReplyIdCounter::new();
        if start_near_wrap {
            for _ in 0..65_500 {
                c.next_id();
            }
        }
        for _ in 0..steps {
            let before = c.last();
            prop_assert_eq!(c.next_id(), before.wrapping_add(1));
            prop_assert_eq!(c.last(), before.wrapping_add(1));
        }
        c.reset();
        prop_assert_eq!(c.next_id(), 1);
    }

    #[test]
    fn device_sequence_verdicts(last in any::<u16>(), next in any::<u16>(), cached in any::<bool>()) {
        let mut d = DeviceSequence::new();
        d.executed(last, cached);
        prop_assert_eq!(d.last(), last);
        let want = if next == last && cached {
            Verdict::Retransmit
        } else if next < last && last != u16::MAX {
            Verdict::Ignore
        } else {
            Verdict::Execute
        };
        prop_assert_eq!(d.check(next), want);
        prop_assert_eq!(d.is_next_upload(next), next == last.wrapping_add(1));
        if next > last {
            prop_assert_eq!(d.check(next), Verdict::Execute);
        }
    }
}

#[cfg(feature = "codec")]
mod codecs {
    use super::*;
    use bytes::BytesMut;
    use tokio_util::codec::{Decoder, Encoder};
    use zkproto::terminal::codec::{CodecError, SerialCodec, TcpCodec, UdpCodec};
    use zkproto::terminal::frame::MAX_SERIAL_PACKET;

    /// What a decoder produced from a byte stream: the packets, then whether
    /// it stopped on an error (and which kind).
    #[derive(Debug, PartialEq)]
    struct Outcome {
        packets: Vec<Packet>,
        error: Option<String>,
        leftover: usize,
    }

    fn error_kind(e: &CodecError) -> String {
        match e {
            // BadMagic carries the bytes seen so far, which depend on the chunking.
            CodecError::Frame(WireError::BadMagic { .. }) => "BadMagic".to_string(),
            other => format!("{other:?}"),
        }
    }

    /// Feeds `bytes` to `codec` in the pieces given by `cut_points`, decoding
    /// after each piece until the decoder wants more or fails.
    fn run<D: Decoder<Item = Packet, Error = CodecError>>(
        mut codec: D,
        bytes: &[u8],
        cut_points: &[usize],
    ) -> Outcome {
        let mut buf = BytesMut::new();
        let mut packets = Vec::new();
        for w in cut_points.windows(2) {
            buf.extend_from_slice(&bytes[w[0]..w[1]]);
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(p)) => packets.push(p),
                    Ok(None) => break,
                    Err(e) => {
                        return Outcome {
                            packets,
                            error: Some(error_kind(&e)),
                            leftover: buf.len(),
                        };
                    }
                }
            }
        }
        Outcome {
            packets,
            error: None,
            leftover: buf.len(),
        }
    }

    fn serial_packet() -> impl Strategy<Value = Packet> {
        (
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            vec(any::<u8>(), 0..=(MAX_SERIAL_PACKET - 8)),
        )
            .prop_map(|(code, session, reply, data)| Packet::new(code, session, reply, data))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn tcp_chunked_stream_decodes_to_the_originals(
            packets in vec(packet(), 1..6),
            raw_cuts in vec(any::<usize>(), 0..40),
        ) {
            let mut codec = TcpCodec::default();
            let mut wire = BytesMut::new();
            for p in &packets {
                codec.encode(p, &mut wire).unwrap();
            }
            let c = cuts(wire.len(), &raw_cuts);
            let got = run(TcpCodec::default(), &wire, &c);
            prop_assert_eq!(got, Outcome { packets, error: None, leftover: 0 });
        }

        #[test]
        fn tcp_arbitrary_bytes_chunking_does_not_matter(
            bytes in prop_oneof![
                vec(any::<u8>(), 0..600),
                // A plausible envelope followed by noise, so the decoder gets past the magic.
                (0u32..300, vec(any::<u8>(), 0..600)).prop_map(|(len, tail)| {
                    let mut v = vec![0x50, 0x50, 0x82, 0x7d];
                    v.extend_from_slice(&len.to_le_bytes());
                    v.extend_from_slice(&tail);
                    v
                }),
            ],
            raw_cuts in vec(any::<usize>(), 0..40),
        ) {
            let whole = run(TcpCodec::with_max_packet(256), &bytes, &[0, bytes.len()]);
            let chunked = run(TcpCodec::with_max_packet(256), &bytes, &cuts(bytes.len(), &raw_cuts));
            prop_assert_eq!(chunked.packets, whole.packets);
            prop_assert_eq!(chunked.error, whole.error);
        }

        #[test]
        fn serial_chunked_stream_decodes_to_the_originals(
            packets in vec(serial_packet(), 1..5),
            device in any::<u8>(),
            noise in vec(any::<u8>(), 0..4),
            raw_cuts in vec(any::<usize>(), 0..40),
        ) {
            let mut codec = SerialCodec::for_device(device);
            let mut wire = BytesMut::new();
            for p in &packets {
                codec.encode(p, &mut wire).unwrap();
            }
            let c = cuts(wire.len(), &raw_cuts);
            prop_assert_eq!(run(SerialCodec::for_device(device), &wire, &c), Outcome { packets: packets.clone(), error: None, leftover: 0 });
            // A frame for another device in front is skipped.
            let mut other = BytesMut::new();
            SerialCodec::for_device(device.wrapping_add(1)).encode(&packets[0], &mut other).unwrap();
            other.extend_from_slice(&wire);
            let c = cuts(other.len(), &raw_cuts);
            prop_assert_eq!(run(SerialCodec::for_device(device), &other, &c).packets, packets.clone());
            // Line noise in front is dropped byte by byte until a header lines up.
            let mut noisy = noise.clone();
            noisy.extend_from_slice(&wire);
            let c = cuts(noisy.len(), &raw_cuts);
            prop_assert_eq!(run(SerialCodec::for_device(device), &noisy, &c).packets, packets);
        }

        #[test]
        fn serial_arbitrary_bytes_chunking_does_not_matter(
            bytes in vec(any::<u8>(), 0..800),
            raw_cuts in vec(any::<usize>(), 0..40),
            filter in proptest::option::of(any::<u8>()),
        ) {
            let codec = || match filter {
                Some(id) => SerialCodec::for_device(id),
                None => SerialCodec::default(),
            };
            let whole = run(codec(), &bytes, &[0, bytes.len()]);
            let chunked = run(codec(), &bytes, &cuts(bytes.len(), &raw_cuts));
            prop_assert_eq!(chunked, whole);
        }

        #[test]
        fn udp_datagrams_round_trip(packets in vec(packet(), 1..6)) {
            let mut codec = UdpCodec::default();
            for p in packets {
                let mut datagram = BytesMut::new();
                codec.encode(&p, &mut datagram).unwrap();
                prop_assert_eq!(codec.decode(&mut datagram).unwrap(), Some(p));
                prop_assert!(datagram.is_empty());
                prop_assert_eq!(codec.decode(&mut datagram).unwrap(), None);
            }
        }

        #[test]
        fn udp_arbitrary_datagrams_never_panic(datagrams in vec(vec(any::<u8>(), 0..300), 0..8)) {
            let mut codec = UdpCodec::default();
            for d in datagrams {
                let mut buf = BytesMut::from(&d[..]);
                match codec.decode(&mut buf) {
                    Ok(Some(p)) => prop_assert_eq!(&p.to_bytes()[..], &d[..]),
                    Ok(None) => prop_assert!(d.is_empty()),
                    Err(_) => prop_assert!(!d.is_empty()),
                }
                // A datagram is consumed whole either way.
                prop_assert!(buf.is_empty());
            }
        }
    }
}
