//! The panel's table, real-time log, parameter and time parsers on arbitrary
//! bytes.
//!
//! Input: a selector byte (`% PARSERS` picks the parser), an option byte,
//! then the data.
//!
//! Properties: no panic; what parses re-encodes (when the encoder accepts
//! it) to something that parses back to the same value; row sets, get and
//! delete requests re-encode to their exact bytes; typed rows decoded from a
//! row set re-encode and decode to the same rows.

use crate::util::Input;
use bytes::Bytes;
use zkproto::panel::params::{self, ParamList};
use zkproto::panel::rtlog::{RECORD_LEN, RtRecord, TextRecord};
use zkproto::panel::sim::TableLayout;
use zkproto::panel::sim::state::structure_text;
use zkproto::panel::table::{
    DeleteRequest, GetDataRequest, RowSet, TableRow, TableStructure, TimezoneRow, TransactionRow,
    UserAuthorizeRow, UserRow, parse_count_reply,
};
use zkproto::panel::time::{PanelTime, TimeSpan};

/// Number of parsers the selector byte chooses from.
pub const PARSERS: u8 = 8;

/// Runs the panel record check on one fuzz input.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let sel = input.u8();
    let opt = input.u8();
    let rest = input.rest();
    match sel % PARSERS {
        0 => structure(rest),
        1 => row_set(rest),
        2 => typed(opt, rest),
        3 => requests(rest),
        4 => rt_binary(rest),
        5 => rt_text(rest),
        6 => param_lists(rest),
        _ => times(rest),
    }
}

fn structure(data: &[u8]) {
    let Ok(s) = TableStructure::parse(data) else {
        return;
    };
    let text = s.to_text();
    let again = TableStructure::parse(text.as_bytes()).expect("structure text parses back");
    assert_eq!(again, s, "table structure: to_text does not parse back");
    for t in &s.tables {
        assert!(s.table(&t.name).is_some(), "table lookup by name fails");
        assert!(s.table_by_id(t.id).is_some(), "table lookup by id fails");
    }
}

fn row_set(data: &[u8]) {
    let Ok(set) = RowSet::parse(Bytes::copy_from_slice(data)) else {
        return;
    };
    for row in &set.rows {
        assert_eq!(row.len(), set.fields.len(), "row set: row width differs");
    }
    let encoded = set.encode().expect("a parsed row set encodes");
    assert_eq!(&encoded[..], data, "row set: re-encoding changes the bytes");
    let again = RowSet::parse(encoded).expect("an encoded row set parses");
    assert_eq!(again, set, "row set: parse → encode → parse differs");
}

fn typed_round_trip<R>(table: &zkproto::panel::table::TableDescriptor, set: &RowSet)
where
    R: TableRow + PartialEq + Clone,
{
    let Ok(rows) = table.decode_typed::<R>(set) else {
        return;
    };
    let Ok(encoded) = table.encode_typed(&rows) else {
        return;
    };
    let bytes = encoded.encode().expect("a typed row set encodes");
    let reparsed = RowSet::parse(bytes).expect("an encoded typed row set parses");
    let again = table
        .decode_typed::<R>(&reparsed)
        .expect("re-encoded typed rows decode");
    assert!(
        again == rows,
        "typed rows ({}): decode → encode → decode differs",
        R::TABLE
    );
}

/// Typed rows of the user, userauthorize, transaction and timezone tables in
/// the old or new layout; the row set's table id is forced to the chosen
/// table so the fuzzer needs not guess it.
fn typed(opt: u8, data: &[u8]) {
    let layout = if opt & 1 == 0 {
        TableLayout::New
    } else {
        TableLayout::Old
    };
    let structure =
        TableStructure::parse(structure_text(layout).as_bytes()).expect("simulator structure");
    let name = match (opt >> 1) % 4 {
        0 => UserRow::TABLE,
        1 => UserAuthorizeRow::TABLE,
        2 => TransactionRow::TABLE,
        _ => TimezoneRow::TABLE,
    };
    let Some(table) = structure.table(name) else {
        return;
    };
    let Ok(mut set) = RowSet::parse(Bytes::copy_from_slice(data)) else {
        return;
    };
    set.table = table.id;
    if let Ok(values) = table.decode(&set) {
        assert_eq!(values.len(), set.rows.len(), "decode lost rows");
    }
    match (opt >> 1) % 4 {
        0 => typed_round_trip::<UserRow>(table, &set),
        1 => typed_round_trip::<UserAuthorizeRow>(table, &set),
        2 => typed_round_trip::<TransactionRow>(table, &set),
        _ => typed_round_trip::<TimezoneRow>(table, &set),
    }
}

fn requests(data: &[u8]) {
    let bytes = Bytes::copy_from_slice(data);
    if let Ok(req) = GetDataRequest::parse(bytes.clone()) {
        let encoded = req.encode().expect("a parsed get request encodes");
        let again = GetDataRequest::parse(encoded).expect("an encoded get request parses");
        assert!(again == req, "get request: parse → encode → parse differs");
    }
    if let Ok(req) = DeleteRequest::parse(bytes) {
        let encoded = req.encode().expect("a parsed delete request encodes");
        let again = DeleteRequest::parse(encoded).expect("an encoded delete request parses");
        assert_eq!(again, req, "delete request: parse → encode → parse differs");
    }
    let _ = parse_count_reply(data);
}

fn rt_binary(data: &[u8]) {
    if let Some(rec) = data.first_chunk::<RECORD_LEN>()
        && let Ok(r) = RtRecord::decode(rec)
    {
        let again = RtRecord::decode(&r.encode()).expect("an encoded record decodes");
        assert_eq!(again, r, "rtlog record: decode → encode → decode differs");
    }
    let Ok(all) = RtRecord::decode_all(data) else {
        return;
    };
    assert_eq!(all.len() * RECORD_LEN, data.len(), "decode_all lost bytes");
    let encoded = RtRecord::encode_all(&all);
    let again = RtRecord::decode_all(&encoded).expect("encoded records decode");
    assert_eq!(
        again, all,
        "rtlog records: decode → encode → decode differs"
    );
}

fn rt_text(data: &[u8]) {
    let Ok(recs) = TextRecord::parse_all(data) else {
        return;
    };
    let encoded = TextRecord::encode_all(&recs);
    let again = TextRecord::parse_all(&encoded).expect("encoded text records parse");
    assert_eq!(again, recs, "text rtlog: parse → encode → parse differs");
    for r in &recs {
        let line = r.to_line();
        assert_eq!(
            TextRecord::parse_all(line.as_bytes()).ok().as_deref(),
            Some(std::slice::from_ref(r)),
            "text rtlog: one line does not parse back"
        );
    }
}

fn param_lists(data: &[u8]) {
    if let Ok(list) = ParamList::parse(data)
        && let Ok(encoded) = list.encode()
    {
        let again = ParamList::parse(&encoded).expect("an encoded list parses");
        assert!(again == list, "param list: parse → encode → parse differs");
        if let Some(Ok(t)) = list.date_time() {
            let _ = t.to_packed();
        }
    }
    if let Ok(names) = params::parse_get_request(data)
        && let Ok(encoded) = params::encode_get_request(&names)
    {
        let again = params::parse_get_request(&encoded).expect("an encoded request parses");
        assert_eq!(
            again, names,
            "param request: parse → encode → parse differs"
        );
    }
}

fn times(data: &[u8]) {
    let mut input = Input::new(data);
    let packed = input.u32();
    if let Ok(t) = PanelTime::from_packed(packed) {
        assert_eq!(t.to_packed(), packed, "panel time: packed value changes");
        let text = t.to_string();
        assert_eq!(
            PanelTime::parse_text(&text),
            Ok(t),
            "panel time: text does not parse back"
        );
    }
    let span = TimeSpan::from_raw(packed);
    assert_eq!(TimeSpan::from_raw(span.to_raw()), span, "time span changes");
    if let Ok(text) = core::str::from_utf8(input.rest())
        && let Ok(t) = PanelTime::parse_text(text)
    {
        assert_eq!(
            PanelTime::from_packed(t.to_packed()),
            Ok(t),
            "panel time: parsed text does not pack back"
        );
        assert_eq!(
            PanelTime::parse_text(&t.to_string()),
            Ok(t),
            "panel time: Display does not parse back"
        );
    }
}
