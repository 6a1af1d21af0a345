//! Example inputs dated at a given time, for newcomers (`propusk issuer example`), the demo and
//! the tests: one issuance JSON per type, and a registry export with one record of each.

use propusk_spec::Timestamp;

/// One issuance JSON per type, valid at `now`: each type's dates just before it (a test sampled
/// two hours before, a pass from an hour before for eleven hours).
pub fn issuance(now: Timestamp) -> Vec<(&'static str, String)> {
    let day = |d: i64| now.plus_seconds(d * 86_400).to_string()[..10].to_owned();
    let time = |h: i64| now.plus_seconds(h * 3600).to_string();
    let holder = r#""holder": {"family_name": "Иванов", "given_name": "Иван", "patronymic": "Иванович", "birth_date": "1980-05-12", "document": {"kind": "passport", "number": "4510 123789"}}"#;
    vec![
        (
            "vaccination",
            format!(
                r#"{{"type": "vaccination", {holder}, "vaccination": {{"product": "Sputnik-V", "dose": 2, "doses": 2, "date": "{}", "country": "RU", "administered_by": "ГБУЗ ГП № 2"}}}}"#,
                day(-1)
            ),
        ),
        (
            "recovery",
            format!(
                r#"{{"type": "recovery", {holder}, "recovery": {{"first_positive": "{}", "country": "RU", "administered_by": "ГБУЗ ГКБ № 40"}}}}"#,
                day(-20)
            ),
        ),
        (
            "test",
            format!(
                r#"{{"type": "test", {holder}, "test": {{"kind": "pcr", "sampled_at": "{}", "result": "negative", "center": "ООО «Гемотест»", "country": "RU"}}}}"#,
                time(-2)
            ),
        ),
        (
            "exemption",
            format!(
                r#"{{"type": "exemption", {holder}, "exemption": {{"valid_from": "{}", "valid_until": "{}", "country": "RU"}}}}"#,
                day(-1),
                day(30)
            ),
        ),
        (
            "pass",
            format!(
                r#"{{"type": "pass", {holder}, "pass": {{"purpose": "work", "valid_from": "{}", "valid_until": "{}"}}}}"#,
                time(-1),
                time(10)
            ),
        ),
    ]
}

/// A registry export (CSV, the columns of README) with one record of each type, valid at `now`.
pub fn registry(now: Timestamp) -> String {
    let day = |d: i64| now.plus_seconds(d * 86_400).to_string()[..10].to_owned();
    let time = |h: i64| now.plus_seconds(h * 3600).to_string();
    let mut csv = String::from(
        "record_id,type,family_name,given_name,patronymic,birth_date,document_kind,\
         document_number,product,dose,doses,date,country,administered_by,first_positive,kind,\
         sampled_at,result,center,valid_from,valid_until,purpose\n",
    );
    let rows = [
        format!(
            "R-0001,vaccination,Иванов,Иван,Иванович,1980-05-12,passport,4510 123789,Sputnik-V,2,2,{},RU,ГБУЗ ГП № 2,,,,,,,,",
            day(-10)
        ),
        format!(
            "R-0002,vaccination,Петрова,Анна,Сергеевна,1975-03,passport,4511 654321,Sputnik-Light,1,1,{},RU,ГБУЗ ГП № 5,,,,,,,,",
            day(-3)
        ),
        format!(
            "R-0003,recovery,Сидоров,Пётр,,1990,passport,4512 111222,,,,,RU,ГБУЗ ГКБ № 40,{},,,,,,,",
            day(-20)
        ),
        format!(
            "R-0004,test,Smith,John,,1985-11-30,foreign,C01X00T47,,,,,RU,,,pcr,{},negative,ООО «Гемотест»,,,",
            time(-2)
        ),
        format!(
            "R-0005,exemption,Кузнецова,Мария,Ивановна,1962-08-01,passport,4513 333444,,,,,RU,,,,,,,{},{},",
            day(-1),
            day(60)
        ),
        format!(
            "R-0006,pass,Смирнов,Алексей,,1999-01-02,passport,4514 555666,,,,,,,,,,,,{},{},shopping",
            time(-1),
            time(10)
        ),
    ];
    for row in rows {
        csv.push_str(&row);
        csv.push('\n');
    }
    csv
}
