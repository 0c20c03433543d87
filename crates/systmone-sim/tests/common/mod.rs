//! A minimal test client: encode with systmone-api, send one line, read one line back.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use systmone_api::{
    ApiKey, ClientIntegrationRequest, ClientIntegrationResponse, DeviceId, EncodeOptions, Request,
    RequestHeader, RequestUid,
};
use systmone_sim::{GatewayConfig, Organisation, Simulator, ThrottleConfig};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

pub const API_KEY: &str = "0a1b2c3d4e5f6071";

pub fn nhs(s: &str) -> systmone_api::NhsNumber {
    s.parse().unwrap()
}

/// A request with the registered API key.
pub fn request(device_id: &str, uid: &str, r: impl Into<Request>) -> ClientIntegrationRequest {
    ClientIntegrationRequest::new(
        RequestHeader::new(
            ApiKey::new(API_KEY),
            DeviceId::new(device_id),
            "sim-tests 1.0",
            RequestUid::new(uid),
        ),
        r,
    )
}

/// What came back for one request.
#[derive(Debug)]
pub enum Answer {
    Line(String),
    Silence,
    Closed,
}

impl Answer {
    pub fn line(self) -> String {
        match self {
            Answer::Line(l) => l,
            other => panic!("expected a response line, got {other:?}"),
        }
    }

    pub fn response(self) -> ClientIntegrationResponse {
        let line = self.line();
        ClientIntegrationResponse::decode(line.as_bytes()).expect("response decodes")
    }
}

pub struct Conn<S> {
    stream: BufReader<S>,
    pub wait: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub fn new(stream: S) -> Self {
        Self {
            stream: BufReader::new(stream),
            wait: Duration::from_secs(5),
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.unwrap();
        self.stream.get_mut().flush().await.unwrap();
    }

    /// Writes without asserting: the simulator may close mid-write.
    pub async fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.get_mut().write_all(bytes).await?;
        self.stream.get_mut().flush().await
    }

    pub async fn read_answer(&mut self) -> Answer {
        let mut line = String::new();
        match tokio::time::timeout(self.wait, self.stream.read_line(&mut line)).await {
            Err(_) => Answer::Silence,
            Ok(Ok(0)) | Ok(Err(_)) => Answer::Closed,
            Ok(Ok(_)) => Answer::Line(line.trim_end().to_owned()),
        }
    }

    pub async fn raw(&mut self, bytes: &[u8]) -> Answer {
        self.send_raw(bytes).await;
        self.read_answer().await
    }

    pub async fn send(&mut self, request: &ClientIntegrationRequest) -> Answer {
        let bytes = request.encode(&EncodeOptions::default()).unwrap();
        self.raw(&bytes).await
    }

    pub async fn call(&mut self, request: &ClientIntegrationRequest) -> ClientIntegrationResponse {
        self.send(request).await.response()
    }
}

/// A gateway with the throttle off, listening on an ephemeral loopback port.
pub async fn relaxed_tcp_gateway(org: &Organisation) -> (Simulator, std::net::SocketAddr) {
    let sim = Simulator::new(
        org.clone(),
        GatewayConfig::for_user("gateway0001")
            .with_throttle(ThrottleConfig::relaxed())
            .with_id_seed(42),
    )
    .unwrap();
    let addr = sim
        .listen_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (sim, addr)
}

pub async fn tcp(addr: std::net::SocketAddr) -> Conn<tokio::net::TcpStream> {
    Conn::new(tokio::net::TcpStream::connect(addr).await.unwrap())
}
