//! Golden tests: captured frames of reference §11.A decode to the documented
//! values and re-encode to the same bytes; client requests of §11.C are
//! reproduced byte for byte by the request builders; §11.B checksums.

use bytes::BytesMut;
use tokio_util::codec::Decoder;
use zkproto::terminal::checksum::checksum;
use zkproto::terminal::codec::TcpCodec;
use zkproto::terminal::commkey::CommKey;
use zkproto::terminal::frame::{TcpFraming, decode_udp, tcp_frame};
use zkproto::terminal::request::Request;
use zkproto::terminal::{ChecksumMode, Command, Packet};

struct Vector {
    name: String,
    bytes: Vec<u8>,
    fields: Option<(u16, u16, u16, u16, usize)>,
}

fn parse_num(s: &str) -> u16 {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u16::from_str_radix(h, 16).unwrap(),
        None => s.parse().unwrap(),
    }
}

fn vectors() -> Vec<Vector> {
    let text = include_str!("vectors/wire_frames.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            let fields = (cols[2] != "-").then(|| {
                (
                    parse_num(cols[2]),
                    parse_num(cols[3]),
                    parse_num(cols[4]),
                    parse_num(cols[5]),
                    cols[6].parse().unwrap(),
                )
            });
            Vector {
                name: cols[0].to_string(),
                bytes: hex::decode(cols[1]).unwrap(),
                fields,
            }
        })
        .collect()
}

#[test]
fn captured_frames_decode_and_reencode() {
    let f = TcpFraming::default();
    let mut n = 0;
    for v in vectors().iter().filter(|v| v.fields.is_some()) {
        let (code, sum, session, reply, len) = v.fields.unwrap();
        let (p, used) = f.decode(&v.bytes, ChecksumMode::Strict).unwrap().unwrap();
        assert_eq!(used, v.bytes.len(), "{}", v.name);
        assert_eq!(p.code, code, "{}", v.name);
        assert_eq!(p.checksum(), sum, "{}", v.name);
        assert_eq!(p.session_id, session, "{}", v.name);
        assert_eq!(p.reply_id, reply, "{}", v.name);
        assert_eq!(p.data.len(), len, "{}", v.name);
        assert_eq!(&tcp_frame(&p)[..], &v.bytes[..], "re-encode {}", v.name);
        n += 1;
    }
    assert_eq!(n, 15);
}

#[test]
fn client_requests_match_pyzk_bytes() {
    let by_name = |prefix: &str| -> Vec<u8> {
        vectors()
            .into_iter()
            .find(|v| v.name.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}"))
            .bytes
    };
    let tcp = |r: Request, s: u16, id: u16| tcp_frame(&r.into_packet(s, id)).to_vec();
    assert_eq!(tcp(Request::connect(), 0, 0), by_name("c_tcp_cmd_connect"));
    assert_eq!(
        Request::connect().into_packet(0, 0).to_bytes().to_vec(),
        by_name("c_udp_cmd_connect")
    );
    assert_eq!(
        tcp(Request::exit(), 0xFB2F, 1),
        by_name("c_cmd_exit_session_0xfb2f")
    );
    assert_eq!(
        Request::exit().into_packet(0xFB2F, 1).to_bytes().to_vec(),
        by_name("c_same_over_udp")
    );
    assert_eq!(
        tcp(Request::auth(CommKey::new(12), 0x45CF, 0x32), 0x45CF, 1),
        by_name("c_cmd_auth_comm_key_12")
    );
    assert_eq!(
        tcp(Request::auth(CommKey::new(45), 0x45CF, 0x32), 0x45CF, 1),
        by_name("c_cmd_auth_comm_key_45")
    );
    assert_eq!(
        tcp(Request::exit(), 0x45CF, 2),
        by_name("c_cmd_exit_session_0x45cf")
    );
    assert_eq!(
        tcp(Request::get_free_sizes(), 0x45CF, 2),
        by_name("c_cmd_get_free_sizes")
    );
    let users = || Request::prepare_buffer(Command::UserTempRrq, 5, 0);
    assert_eq!(tcp(users(), 0x45CF, 20), by_name("c_1503_read_users"));
    assert_eq!(tcp(users(), 0x2058, 20), by_name("c_same_session_0x2058"));
    assert_eq!(
        tcp(Request::free_data(), 0x3C5C, 23),
        by_name("c_cmd_free_data")
    );
    // The captured option requests of §11.A are reproduced by the builders too.
    assert_eq!(
        tcp(Request::read_option("~Platform").unwrap(), 0x8DF3, 12),
        by_name("a08_")
    );
    assert_eq!(
        tcp(Request::read_option("WorkCode").unwrap(), 0x8DF3, 11),
        by_name("a10_")
    );
    assert_eq!(
        tcp(Request::write_option("LockOn", "5").unwrap(), 0xC584, 71),
        by_name("a12_")
    );
    assert_eq!(
        tcp(
            Request::write_option("AntiPassbackOn", "0").unwrap(),
            0xC584,
            67
        ),
        by_name("a13_")
    );
    assert_eq!(
        tcp(Request::read_option("~OS").unwrap(), 0xC0C5, 5),
        by_name("a00_")
    );
}

#[test]
fn udp_vectors_decode() {
    for v in vectors().iter().filter(|v| v.name.ends_with("_udp")) {
        let p = decode_udp(&v.bytes, ChecksumMode::Strict).unwrap();
        assert_eq!(p.to_bytes().to_vec(), v.bytes, "{}", v.name);
    }
}

#[test]
fn checksum_vectors_of_11b() {
    let with = hex::decode("0b005a17f38d03005a4b4661636556657273696f6e00").unwrap();
    let p = Packet::decode(&with, ChecksumMode::Strict).unwrap();
    assert_eq!(p.checksum(), 0x175A);
    assert_eq!(&p.data[..], b"ZKFaceVersion\0");
    let mut without = with.clone();
    without[2] = 0;
    without[3] = 0;
    assert_eq!(checksum(&without), 0x175A);
    let odd = hex::decode("d007296af38d0a0009").unwrap();
    assert_eq!(
        Packet::decode(&odd, ChecksumMode::Strict)
            .unwrap()
            .checksum(),
        0x6A29
    );
}

fn all_captured_stream() -> (Vec<u8>, Vec<Packet>) {
    let f = TcpFraming::default();
    let mut stream = Vec::new();
    let mut packets = Vec::new();
    for v in vectors()
        .iter()
        .filter(|v| v.bytes.starts_with(&[0x50, 0x50]))
    {
        stream.extend_from_slice(&v.bytes);
        packets.push(f.decode(&v.bytes, ChecksumMode::Strict).unwrap().unwrap().0);
    }
    (stream, packets)
}

#[test]
fn coalesced_frames_decode_in_order() {
    let (stream, expected) = all_captured_stream();
    let mut codec = TcpCodec::default();
    let mut buf = BytesMut::from(&stream[..]);
    let mut got = Vec::new();
    while let Some(p) = codec.decode(&mut buf).unwrap() {
        got.push(p);
    }
    assert!(buf.is_empty());
    assert_eq!(got, expected);
}

#[test]
fn split_at_every_boundary_and_byte_by_byte() {
    let (stream, expected) = all_captured_stream();
    // One byte at a time.
    let mut codec = TcpCodec::default();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for b in &stream {
        buf.extend_from_slice(&[*b]);
        while let Some(p) = codec.decode(&mut buf).unwrap() {
            got.push(p);
        }
    }
    assert_eq!(got, expected);
    // Two pieces, split at every position.
    for cut in 0..=stream.len() {
        let mut codec = TcpCodec::default();
        let mut buf = BytesMut::from(&stream[..cut]);
        let mut got = Vec::new();
        while let Some(p) = codec.decode(&mut buf).unwrap() {
            got.push(p);
        }
        buf.extend_from_slice(&stream[cut..]);
        while let Some(p) = codec.decode(&mut buf).unwrap() {
            got.push(p);
        }
        assert_eq!(got, expected, "cut at {cut}");
    }
}
