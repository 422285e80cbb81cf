//! A real HTTP/1.1 server on 127.0.0.1 speaking the OpenAI embeddings protocol, its answers
//! scripted per request: the vectors are the hash embedder's, returned in reverse order so that
//! the client must sort by `index`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbarch_embed::Embedder;
use dbarch_embed::hash::HashEmbedder;

/// What the server does with the n-th request (0-based).
pub enum Reply {
    /// 200 with embeddings of this many dimensions.
    Ok(usize),
    /// Another status, with extra headers and a body.
    Status(u16, Vec<(&'static str, String)>, String),
    /// Sleep, then answer 200 (the client will have given up).
    Sleep(Duration),
}

pub struct Request {
    pub headers: Vec<(String, String)>,
    pub inputs: Vec<String>,
    pub model: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Server {
    pub url: String,
    pub count: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

pub fn serve(script: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(script);
    let (c, r) = (count.clone(), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (c, r, script) = (c.clone(), r.clone(), script.clone());
            std::thread::spawn(move || handle(stream, &c, &r, &*script));
        }
    });
    Server {
        url,
        count,
        requests,
    }
}

fn handle(
    stream: TcpStream,
    count: &AtomicUsize,
    log: &Mutex<Vec<Request>>,
    script: &(dyn Fn(usize, &Request) -> Reply + Send + Sync),
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    assert!(line.starts_with("POST /v1/embeddings "), "{line}");
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').unwrap();
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let req = Request {
        headers,
        inputs: json["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect(),
        model: json["model"].as_str().unwrap().to_string(),
    };
    let n = count.fetch_add(1, Ordering::SeqCst);
    let reply = script(n, &req);
    let (status, extra, body) = match reply {
        Reply::Ok(dims) => (200, vec![], ok_body(&req.inputs, dims)),
        Reply::Status(s, h, b) => (s, h, b),
        Reply::Sleep(d) => {
            std::thread::sleep(d);
            (200, vec![], ok_body(&req.inputs, 8))
        }
    };
    log.lock().unwrap().push(req);
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
}

fn ok_body(inputs: &[String], dims: usize) -> String {
    let texts: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let vectors = HashEmbedder::new(dims).embed(&texts).unwrap();
    let data: Vec<serde_json::Value> = vectors
        .into_iter()
        .enumerate()
        .rev()
        .map(|(i, v)| serde_json::json!({"object": "embedding", "index": i, "embedding": v}))
        .collect();
    serde_json::json!({"object": "list", "data": data, "model": "m", "usage": {}}).to_string()
}
