use super::*;
use crate::panel::error::{DecodeError, TableError};
use crate::panel::rtlog::{EventCode, InOutState, VerifyMode};
use crate::panel::time::{PanelTime, TimeSpan};
use bytes::Bytes;
use core::fmt;
use proptest::prelude::*;

macro_rules! old_user {
    () => {
        "user=1,CardNo=i1,Pin=i2,Password=s3,Group=i4,StartTime=i5,EndTime=i6,SuperAuthorize=i7\n"
    };
}
macro_rules! others {
    () => {
        "userauthorize=2,Pin=i1,AuthorizeTimezoneId=i2,AuthorizeDoorId=i3\n\
         transaction=5,Cardno=i1,Pin=i2,Verified=i3,DoorID=i4,EventType=i5,InOutState=i6,Time_second=i7\n"
    };
}
const OLD: &[u8] = concat!(old_user!(), others!()).as_bytes();
const OTHERS: &[u8] = others!().as_bytes();
const NEW_USER: &[u8] =
    b"user=1,UID=i1,CardNo=i2,Pin=i3,Password=s4,Group=i5,StartTime=i6,EndTime=i7,Name=s8,SuperAuthorize=i9\n";

#[test]
fn structure_round_trip_and_errors() {
    let s = TableStructure::parse(OLD).unwrap();
    assert_eq!(s.tables.len(), 3);
    assert_eq!(s.to_text().as_bytes(), OLD);
    assert_eq!(s.table("USER").unwrap().field("cardno").unwrap().id, 1);
    for bad in [
        &b"user=x,Pin=i1\n"[..],
        b"user=1,Pin\n",
        b"user=1,Pin=i\n",
        b"user=1,Pin=i300\n",
        b"=1\n",
    ] {
        assert!(
            matches!(
                TableStructure::parse(bad),
                Err(DecodeError::BadSyntax { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn user_row_old_and_new_layout() {
    let old = TableStructure::parse(OLD).unwrap();
    let new = TableStructure::parse(NEW_USER).unwrap();
    let user = UserRow {
        pin: 19999,
        card_no: 13375401,
        password: "1".into(),
        ..UserRow::default()
    };
    let o = old
        .table("user")
        .unwrap()
        .encode_typed(std::slice::from_ref(&user))
        .unwrap();
    assert_eq!(o.fields, [2, 1, 3, 4, 5, 6, 7]);
    let n = new
        .table("user")
        .unwrap()
        .encode_typed(std::slice::from_ref(&user))
        .unwrap();
    assert_eq!(n.fields, [3, 2, 4, 5, 6, 7, 8, 9]);
    for (s, rs) in [(&old, o), (&new, n)] {
        let back: Vec<UserRow> = s
            .table("user")
            .unwrap()
            .decode_typed(&RowSet::parse(rs.encode().unwrap()).unwrap())
            .unwrap();
        assert_eq!(back, std::slice::from_ref(&user));
    }
    let named = UserRow {
        name: "Ann".into(),
        ..user
    };
    assert_eq!(
        old.table("user").unwrap().encode_typed(&[named]),
        Err(TableError::FieldNotInTable {
            table: "user".into(),
            field: "Name"
        })
    );
}

#[test]
fn kind_and_width_checks() {
    let s = TableStructure::parse(NEW_USER).unwrap();
    let u = s.table("user").unwrap();
    assert!(matches!(
        u.rows(&["Pin"], &[vec![Value::from("x")]]),
        Err(TableError::KindMismatch { .. })
    ));
    assert!(matches!(
        u.rows(&["Pin"], &[vec![]]),
        Err(TableError::RowWidth {
            row: 0,
            expected: 1,
            got: 0
        })
    ));
    assert!(matches!(
        u.rows(&["Nope"], &[]),
        Err(TableError::UnknownField { .. })
    ));
    assert!(u.delete_matching(&[], &[]).is_err());
    assert_eq!(
        u.delete_all().encode().unwrap(),
        Bytes::from_static(&[1, 0])
    );
    let ua = UserAuthorizeRow {
        pin: 1,
        timezone_id: 1,
        doors: 15,
    };
    assert!(matches!(
        u.encode_typed(&[ua]),
        Err(TableError::UnknownTable { .. })
    ));
}

#[test]
fn truncated_and_malformed_rows() {
    // one row, second cell announces 3 bytes but only 2 follow
    let data = Bytes::from_static(&[1, 2, 3, 2, 2, 0x1f, 0x4e, 3, 0xa9, 0x17]);
    assert_eq!(
        RowSet::parse(data),
        Err(DecodeError::Truncated {
            what: "row cell",
            need: 11,
            got: 10
        })
    );
    assert!(RowSet::parse(Bytes::from_static(&[1, 3, 1])).is_err());
    assert!(RowSet::parse(Bytes::from_static(&[1, 0, 1])).is_err());
    assert!(RowSet::parse(Bytes::new()).is_err());
    assert!(Value::from_cell(FieldKind::Int, &Bytes::from_static(&[1, 2, 3, 4, 5])).is_err());
    assert!(GetDataRequest::parse(Bytes::from_static(&[1, 1, 1, 2, 0])).is_err());
    assert!(GetDataRequest::parse(Bytes::from_static(&[1, 0, 0, 0])).is_err());
    assert!(GetDataRequest::parse(Bytes::from_static(&[1, 1, 1, 0, 0, 9])).is_err());
}

#[test]
fn debug_redacts() {
    let u = UserRow {
        password: "4321".into(),
        ..UserRow::default()
    };
    assert!(!format!("{u:?}").contains("4321"));
    assert!(!format!("{:?}", Value::from("4321")).contains("4321"));
}

fn cell() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..20).prop_map(Bytes::from)
}

fn any_time() -> impl Strategy<Value = PanelTime> {
    (
        2000u16..=2133,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        0u8..60,
    )
        .prop_filter_map("range", |(y, mo, d, h, mi, s)| {
            PanelTime::new(y, mo, d, h, mi, s).ok()
        })
}

proptest! {
    #[test]
    fn row_set_round_trip(table: u8, n in 1usize..6, rows in proptest::collection::vec(proptest::collection::vec(cell(), 6), 0..5)) {
        let rs = RowSet {
            table,
            fields: (1..=u8::try_from(n).unwrap()).collect(),
            rows: rows.into_iter().map(|mut r| { r.truncate(n); r }).collect(),
        };
        let bytes = rs.encode().unwrap();
        let back = RowSet::parse(bytes.clone()).unwrap();
        prop_assert_eq!(&back, &rs);
        prop_assert_eq!(back.encode().unwrap(), bytes);
    }

    #[test]
    fn int_cells_are_minimal(v: u32) {
        let c = Value::Int(v).to_cell();
        prop_assert!(!c.is_empty() && c.len() <= 4);
        prop_assert!(c.len() == 1 || c.last() != Some(&0));
        prop_assert_eq!(Value::from_cell(FieldKind::Int, &c), Ok(Value::Int(v)));
    }

    #[test]
    fn get_request_round_trip(table: u8, fields in proptest::collection::vec(any::<u8>(), 1..10),
                              param: Option<u8>, conds in proptest::collection::vec((any::<u8>(), cell()), 0..4)) {
        let r = GetDataRequest { table, fields, table_param: param, conditions: conds };
        let bytes = r.encode().unwrap();
        let back = GetDataRequest::parse(bytes.clone()).unwrap();
        prop_assert_eq!(&back, &r);
        prop_assert_eq!(back.encode().unwrap(), bytes);
    }

    #[test]
    fn typed_rows_round_trip(pin: u32, card: u32, pw in "[0-9]{0,8}", name in "[A-Za-z ]{0,10}", su: bool,
                             uid: Option<u32>, tz: u32, doors in 0u32..16, t in any_time(),
                             ev: u8, vm: u8, door: u8, io: u8, spans in proptest::array::uniform30(any::<u32>())) {
        let s = TableStructure::parse(&[NEW_USER, OTHERS, b"timezone=4,TimezoneId=i1,",
            TIMEZONE_SPAN_FIELDS.iter().enumerate().map(|(i, n)| format!("{n}=i{}", i + 2)).collect::<Vec<_>>().join(",").as_bytes(), b"\n"].concat()).unwrap();
        let user = UserRow { pin, card_no: card, password: pw, group: 0, start_date: 20220202, end_date: 0, name, super_authorize: su, uid };
        let ua = UserAuthorizeRow { pin, timezone_id: tz, doors };
        let tr = TransactionRow { card_no: card, pin, verify: VerifyMode::from(vm), door, event: EventCode::from(ev), in_out: InOutState::from(io), time: t };
        let mut tzr = TimezoneRow { id: tz, ..TimezoneRow::default() };
        for (slot, raw) in tzr.spans.iter_mut().flatten().zip(spans) { *slot = TimeSpan::from_raw(raw); }

        fn rt<R: TableRow + PartialEq + fmt::Debug + Clone>(s: &TableStructure, r: &R) -> Result<(), TestCaseError> {
            let t = s.table(R::TABLE).unwrap();
            let rs = t.encode_typed(std::slice::from_ref(r)).unwrap();
            let bytes = rs.encode().unwrap();
            let back: Vec<R> = t.decode_typed(&RowSet::parse(bytes.clone()).unwrap()).unwrap();
            prop_assert_eq!(&back, &vec![r.clone()]);
            prop_assert_eq!(t.encode_typed(&back).unwrap().encode().unwrap(), bytes);
            Ok(())
        }
        rt(&s, &user)?;
        rt(&s, &ua)?;
        rt(&s, &tr)?;
        rt(&s, &tzr)?;
    }

    #[test]
    fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = RowSet::parse(Bytes::from(data.clone()));
        let _ = GetDataRequest::parse(Bytes::from(data.clone()));
        let _ = DeleteRequest::parse(Bytes::from(data.clone()));
        let _ = TableStructure::parse(&data);
        let _ = parse_count_reply(&data);
    }
}
