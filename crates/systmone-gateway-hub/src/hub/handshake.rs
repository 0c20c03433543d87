//! The first frame of a connection: an enrolment (one-time token → device credential) or a
//! session's hello, checked against the client certificate (when bound to devices) and the
//! registry.

use std::sync::Arc;

use chrono::Utc;
use nhs_identifiers::OdsCode;
use rustls::pki_types::CertificateDer;
use systmone_gateway::{ControlMessage, Frame, FrameDecoder, SystmOneState};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{debug, info, warn};

use super::config::DeviceCertificates;
use super::state::HubInner;
use crate::error::HubError;
use crate::registry::{DeviceId, DeviceRecord};
use crate::tls::certificate_device_id;

impl HubInner {
    /// Serves one connection: an enrolment (answered, then closed) or a session (run until it
    /// ends). `peer_certificate` is the client certificate the TLS handshake accepted, if any.
    pub(super) async fn serve_connection<S>(
        self: Arc<Self>,
        stream: S,
        peer_certificate: Option<CertificateDer<'static>>,
    ) where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let certified = self.certified_device(peer_certificate.as_ref());
        let (mut reader, mut writer) = tokio::io::split(stream);
        let mut decoder = FrameDecoder::new(self.config.max_payload);
        let first = tokio::time::timeout(
            self.config.handshake_timeout,
            read_frame(&mut reader, &mut decoder),
        )
        .await;
        let reply = |message: ControlMessage| {
            let mut bytes = Vec::new();
            systmone_gateway::relay::encode(&Frame::Control(message), &mut bytes);
            bytes
        };
        let refuse = |reason: &str| {
            reply(ControlMessage::Refused {
                reason: reason.to_owned(),
            })
        };
        let certified = match (certified, &first) {
            (Ok(certified), _) => certified,
            (Err(why), Ok(Ok(Some(_)))) => {
                let _ = writer.write_all(&refuse(why)).await;
                let _ = writer.shutdown().await;
                return;
            }
            (Err(_), _) => return,
        };
        let answer = match first {
            Ok(Ok(Some(Frame::Control(ControlMessage::Enrol {
                token,
                label,
                agent_version,
            })))) => match self
                .registry
                .enrol(token, label, certified.clone(), Utc::now())
                .await
            {
                Ok((record, credential)) => {
                    info!(device = %record.device_id, ods = %record.ods, %agent_version, "device enrolled");
                    reply(ControlMessage::Enrolled {
                        device_id: record.device_id.to_string(),
                        ods: record.ods.to_string(),
                        credential,
                    })
                }
                Err(HubError::Token(refusal)) => {
                    warn!(reason = %refusal, "enrolment refused");
                    refuse(&refusal.to_string())
                }
                Err(HubError::DeviceIdTaken) => {
                    warn!(device = ?certified.as_ref().map(DeviceId::as_str), "enrolment refused: a device with the certificate's name is already enrolled");
                    refuse(
                        "a device with this certificate's name (CN) is already enrolled; issue the PC a certificate with a new name",
                    )
                }
                Err(error) => {
                    warn!(%error, "enrolment failed");
                    refuse("enrolment failed on the hub; try again later")
                }
            },
            Ok(Ok(Some(Frame::Control(ControlMessage::Hello {
                device_id,
                credential,
                ods,
                agent_version,
                systmone,
            })))) => {
                let hello = Hello {
                    device_id,
                    credential,
                    ods,
                    agent_version,
                    systmone,
                };
                match self.clone().authenticate(hello, certified.as_ref()).await {
                    Ok((record, hello)) => {
                        self.run_session(record, hello, reader, writer, decoder)
                            .await;
                        return;
                    }
                    Err(message) => reply(message),
                }
            }
            Ok(Ok(Some(other))) => {
                warn!(frame = ?other, "an agent's first frame was neither enrol nor hello");
                refuse("expected enrol or hello")
            }
            Ok(Ok(None)) => return,
            Ok(Err(error)) => {
                warn!(%error, "malformed first frame from an agent; closing");
                return;
            }
            Err(_) => {
                debug!("an agent sent nothing in time; closing");
                return;
            }
        };
        let _ = writer.write_all(&answer).await;
        let _ = writer.shutdown().await;
    }

    /// The device id the client certificate names, when certificates are bound to devices
    /// (`Ok(None)` when they are not); `Err` with the reason to give the agent when the
    /// certificate is missing or names no device.
    fn certified_device(
        &self,
        peer_certificate: Option<&CertificateDer<'static>>,
    ) -> Result<Option<DeviceId>, &'static str> {
        match self.config.device_certificates {
            DeviceCertificates::Unbound => Ok(None),
            DeviceCertificates::CommonNameIsDeviceId => {
                let Some(certificate) = peer_certificate else {
                    warn!("an agent connected without a client certificate; refused");
                    return Err("a client certificate is required");
                };
                match certificate_device_id(certificate) {
                    Some(device_id) => Ok(Some(device_id)),
                    None => {
                        warn!(
                            "an agent's client certificate names no device id (one CN of letters, digits, - or _); refused"
                        );
                        Err("the client certificate names no device id in its subject CN")
                    }
                }
            }
        }
    }

    /// Checks a hello: the certificate (when bound) names the device, the credential is the
    /// device's, the device is not revoked and announces its enrolled organisation.
    async fn authenticate(
        self: Arc<Self>,
        hello: Hello,
        certified: Option<&DeviceId>,
    ) -> Result<(DeviceRecord, Hello), ControlMessage> {
        let refuse = |reason: &str| ControlMessage::Refused {
            reason: reason.to_owned(),
        };
        let Ok(device_id) = DeviceId::new(&hello.device_id) else {
            warn!("hello with an invalid device id refused");
            return Err(refuse("unknown device or wrong credential"));
        };
        if let Some(certified) = certified
            && *certified != device_id
        {
            warn!(certificate = %certified, claimed = %device_id, "hello refused: the client certificate is for another device");
            return Err(refuse("the client certificate is for another device"));
        }
        let record = match self
            .registry
            .authenticate(device_id.clone(), hello.credential.clone())
            .await
        {
            Ok(record) => record,
            Err(HubError::Revoked) => {
                warn!(device = %device_id, "a revoked device tried to connect");
                return Err(ControlMessage::Revoked);
            }
            Err(HubError::BadCredential) => {
                warn!(device = %device_id, "hello refused: unknown device or wrong credential");
                return Err(refuse("unknown device or wrong credential"));
            }
            Err(error) => {
                warn!(device = %device_id, %error, "hello failed");
                return Err(refuse("the hub cannot check devices now; try again later"));
            }
        };
        if hello.ods.parse::<OdsCode>().ok().as_ref() != Some(&record.ods) {
            warn!(device = %device_id, enrolled = %record.ods, "agent announced another organisation than its enrolment; refused");
            return Err(refuse(
                "the announced organisation differs from the enrolment",
            ));
        }
        Ok((record, hello))
    }
}

/// The fields of a hello, kept for the session.
pub(super) struct Hello {
    pub(super) device_id: String,
    pub(super) credential: systmone_gateway::Secret,
    pub(super) ods: String,
    pub(super) agent_version: String,
    pub(super) systmone: SystmOneState,
}

async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    decoder: &mut FrameDecoder,
) -> Result<Option<Frame>, systmone_gateway::FrameError> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(frame) = decoder.next_frame()? {
            return Ok(Some(frame));
        }
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(read) => decoder.push(&buf[..read]),
        }
    }
}
