//! The forgotten-PIN reset admins do daily: with 10 000 users on the
//! device, changing one user's PIN changes exactly that user's password
//! field and nothing else, byte for byte, on both record layouts and for a
//! user with a GBK-encoded name.

use std::net::SocketAddr;
use std::time::Duration;
use zkproto::terminal::client::{Client, Options, Transport};
use zkproto::terminal::record::TextEncoding;
use zkproto::terminal::record::text::Overflow;
use zkproto::terminal::record::user::UserLayout;
use zkproto::terminal::sim::{Profile, SimConfig, Simulator};

async fn check(profile: Profile, transport: Transport) {
    let enc = TextEncoding::Gbk;
    let sim = Simulator::new(SimConfig {
        profile: profile.clone(),
        encoding: enc,
        users: 10_000,
        ..SimConfig::default()
    });
    let target_id = "7777";
    let mut target = sim.user(target_id).expect("seeded user");
    // A Chinese name, and junk after the NUL of the password field, which
    // the device may carry and which only the password write may touch.
    target.set_name("王小明", enc, Overflow::Error).unwrap();
    target.set_password("12").unwrap();
    let mut raw = target.as_bytes().to_vec();
    raw[6] = 0x7c;
    let target = zkproto::terminal::record::user::User::parse(&raw, profile.user_layout).unwrap();
    sim.put_user(target.clone());
    let before = sim.users();
    assert_eq!(before.len(), 10_000);

    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = sim.serve(Some(any), Some(any)).await.unwrap();
    let addr = match transport {
        Transport::Udp => server.udp_addr().unwrap(),
        _ => server.tcp_addr().unwrap(),
    };
    let opts = Options::new()
        .transport(transport)
        .encoding(enc)
        .timeout(Duration::from_secs(5));
    let mut c = Client::connect(addr, opts).await.unwrap();
    let returned = c.set_pin(target_id, "90817").await.unwrap();
    assert_eq!(c.user_layout(), Some(profile.user_layout));

    let after = sim.users();
    assert_eq!(after.len(), before.len());
    let pw = match profile.user_layout {
        UserLayout::Compact28 => 3..8,
        UserLayout::Extended72 => 3..11,
    };
    let mut changed = 0;
    for (b, a) in before.iter().zip(&after) {
        if b.uid() != target.uid() {
            assert_eq!(a.as_bytes(), b.as_bytes(), "uid {} changed", b.uid());
            continue;
        }
        changed += 1;
        let (ab, bb) = (a.as_bytes(), b.as_bytes());
        assert_eq!(ab.len(), bb.len());
        for i in 0..ab.len() {
            if !pw.contains(&i) {
                assert_eq!(ab[i], bb[i], "byte {i} outside the password field changed");
            }
        }
        let mut want = vec![0u8; pw.len()];
        want[..5].copy_from_slice(b"90817");
        assert_eq!(&ab[pw.clone()], &want[..]);
        assert_eq!(a.name(enc), "王小明");
        assert_eq!(a, &returned);
    }
    assert_eq!(changed, 1);
    c.disconnect().await.unwrap();
}

#[tokio::test]
async fn set_pin_72_byte_records_tcp() {
    check(Profile::zk8(), Transport::Tcp).await;
}

#[tokio::test]
async fn set_pin_72_byte_records_udp() {
    check(Profile::zk8(), Transport::Udp).await;
}

#[tokio::test]
async fn set_pin_28_byte_records_udp() {
    check(Profile::zk6(), Transport::Udp).await;
}
