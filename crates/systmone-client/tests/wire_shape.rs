#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The exact bytes the client writes: the envelope fields it fills in itself (empty `DeviceID`
//! on first contact, then the allocated one; `RequestUID`; `DeviceVersion`; `OutputScheme`).

use std::sync::{Arc, Mutex};

use systmone_api::{
    ClientIntegrationRequest, ClientIntegrationResponse, DeviceId, EncodeOptions, OutputScheme,
    ResponseHeader, ResponseUid, get_functions,
};
use systmone_client::{ApiKey, BoxStream, Client, ClientConfig, FnConnector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(start_paused = true)]
async fn requests_on_the_wire() {
    let written = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = Arc::clone(&written);
    let connector = FnConnector::new(move || {
        let log = Arc::clone(&log);
        Box::pin(async move {
            let (client, mut server) = tokio::io::duplex(1 << 16);
            tokio::spawn(async move {
                let mut framer = systmone_api::Framer::default();
                let mut buf = vec![0u8; 4096];
                while let Ok(read) = server.read(&mut buf).await {
                    if read == 0 {
                        return;
                    }
                    log.lock()
                        .unwrap()
                        .push(String::from_utf8(buf[..read].to_vec()).unwrap());
                    framer.push(&buf[..read]);
                    while let Ok(Some(message)) = framer.next_message() {
                        let header = ClientIntegrationRequest::decode_header(&message).unwrap();
                        let response_header = ResponseHeader::for_request(
                            &header,
                            DeviceId::new("7c41d09e2b8a5f13"),
                            ResponseUid::new("A0F3C2B0-1B6F-11EF-8C3D-0100000040AA"),
                        );
                        let bytes = ClientIntegrationResponse::success(
                            response_header,
                            get_functions::v1::Response::default(),
                        )
                        .encode(&EncodeOptions::server())
                        .unwrap();
                        server.write_all(&bytes).await.unwrap();
                    }
                }
            });
            Ok(Box::new(client) as BoxStream)
        })
    });
    let mut config = ClientConfig::default();
    config.request_uid_prefix = "practice-a".to_owned();
    config.output_scheme = Some(OutputScheme::snomed());
    let client = Client::builder("gw-1", ApiKey::new("0a1b2c3d4e5f6071"))
        .in_memory_device_id()
        .device_version("example-integration 1.0")
        .connector(Arc::new(connector))
        .config(config)
        .spawn()
        .unwrap();
    client
        .call(get_functions::v1::Request::new())
        .await
        .unwrap();
    client
        .call(get_functions::v1::Request::new())
        .await
        .unwrap();
    let written = written.lock().unwrap().join("");
    insta::assert_snapshot!(written);
}
