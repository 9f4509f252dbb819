//! Local stand-ins for DingTalk, WeCom and Tencent Cloud SMS: each records what it gets and
//! checks it as the provider would — DingTalk's signature and one-hour timestamp window,
//! WeCom's key, Tencent's TC3-HMAC-SHA256 recomputed here from its documentation — answering
//! as the provider answers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use chrono::NaiveDateTime;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const DING_SECRET: &str = "SEC0123456789abcdef0123456789abcdef";
pub const WECOM_KEY: &str = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";
pub const SECRET_ID: &str = "AKIDtestsecretid000000000000000000";
pub const SECRET_KEY: &str = "testsecretkey0123456789abcdefghij";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Provider {
    DingTalk,
    Wecom,
    Tencent,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Ok,
    Fail500,
    Hang,
}

#[derive(Debug, Clone)]
struct Got {
    body: Value,
    /// Whether the provider would have taken it (signature, key, window all right) and
    /// answered success.
    accepted: bool,
}

#[derive(Clone)]
pub(crate) struct Receiver {
    provider: Provider,
    mode: Arc<Mutex<Mode>>,
    /// The instant the sender's clock reads (DingTalk allows an hour either way).
    now_ms: Arc<Mutex<i64>>,
    got: Arc<Mutex<Vec<Got>>>,
    pub base: String,
}

impl Receiver {
    pub async fn start(provider: Provider, now: NaiveDateTime) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let r = Receiver {
            provider,
            mode: Arc::new(Mutex::new(Mode::Ok)),
            now_ms: Arc::new(Mutex::new(now.and_utc().timestamp_millis())),
            got: Arc::default(),
            base,
        };
        let data = web::Data::new(r.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(answer)))
            .listen(listener)
            .unwrap()
            .workers(2)
            .disable_signals()
            .run();
        tokio::spawn(server);
        r
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub(crate) fn accepted(&self) -> Vec<Value> {
        self.got.lock().unwrap().iter().filter(|g| g.accepted).map(|g| g.body.clone()).collect()
    }

    pub fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

fn hmac256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn query(req: &HttpRequest, key: &str) -> Option<String> {
    url_pairs(req.query_string()).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{q}")).unwrap().query_pairs().map(|(k, v)| (k.into(), v.into())).collect()
}

/// DingTalk: `sign` must be Base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")) and the
/// timestamp within an hour of the server's time.
fn dingtalk_ok(req: &HttpRequest, now_ms: i64) -> bool {
    let (Some(ts), Some(sign), Some(_token)) =
        (query(req, "timestamp"), query(req, "sign"), query(req, "access_token"))
    else {
        return false;
    };
    let Ok(ts_ms) = ts.parse::<i64>() else { return false };
    let expected = base64::engine::general_purpose::STANDARD
        .encode(hmac256(DING_SECRET.as_bytes(), format!("{ts}\n{DING_SECRET}").as_bytes()));
    sign == expected && (ts_ms - now_ms).abs() < 3_600_000
}

/// Tencent Cloud API 3.0: recompute TC3-HMAC-SHA256 from the request as received.
fn tencent_ok(req: &HttpRequest, body: &str) -> bool {
    let h = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (ct, host, ts) = (h("content-type"), h("host"), h("x-tc-timestamp"));
    if h("x-tc-action") != "SendSms" || h("x-tc-version") != "2021-01-11" || h("x-tc-region").is_empty() {
        return false;
    }
    let Ok(timestamp) = ts.parse::<i64>() else { return false };
    let date = chrono::DateTime::from_timestamp(timestamp, 0).unwrap().format("%Y-%m-%d").to_string();
    let canonical = format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
        ct.to_lowercase(),
        host.to_lowercase(),
        hex::encode(Sha256::digest(body.as_bytes()))
    );
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/sms/tc3_request\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k = hmac256(&hmac256(&hmac256(format!("TC3{SECRET_KEY}").as_bytes(), date.as_bytes()), b"sms"), b"tc3_request");
    let expected = format!(
        "TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/sms/tc3_request, SignedHeaders=content-type;host, Signature={}",
        hex::encode(hmac256(&k, to_sign.as_bytes()))
    );
    h("authorization") == expected
}

async fn answer(req: HttpRequest, body: web::Bytes, state: web::Data<Receiver>) -> HttpResponse {
    let mode = *state.mode.lock().unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let valid = match state.provider {
        Provider::DingTalk => dingtalk_ok(&req, *state.now_ms.lock().unwrap()),
        Provider::Wecom => query(&req, "key").as_deref() == Some(WECOM_KEY),
        Provider::Tencent => tencent_ok(&req, &text),
    };
    let accepted = valid && mode == Mode::Ok;
    state.got.lock().unwrap().push(Got { body: parsed.clone(), accepted });
    match mode {
        Mode::Fail500 => return HttpResponse::InternalServerError().finish(),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            return HttpResponse::Ok().json(json!({ "errcode": 0 }));
        }
        Mode::Ok => {}
    }
    match (state.provider, valid) {
        (Provider::Tencent, true) => HttpResponse::Ok().json(json!({ "Response": {
            "SendStatusSet": [{ "SerialNo": "2645:1", "PhoneNumber": parsed["PhoneNumberSet"][0], "Fee": 1,
                                "Code": "Ok", "Message": "send success", "IsoCode": "CN" }],
            "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279" } })),
        (Provider::Tencent, false) => HttpResponse::Ok().json(json!({ "Response": {
            "Error": { "Code": "AuthFailure.SignatureFailure", "Message": "The provided credentials could not be validated." },
            "RequestId": "b1" } })),
        (_, true) => HttpResponse::Ok().json(json!({ "errcode": 0, "errmsg": "ok" })),
        (Provider::DingTalk, false) => HttpResponse::Ok().json(json!({ "errcode": 310000, "errmsg": "sign not match" })),
        (_, false) => HttpResponse::Ok().json(json!({ "errcode": 93000, "errmsg": "invalid webhook url" })),
    }
}
