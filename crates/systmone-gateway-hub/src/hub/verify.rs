//! Checking a device's organisation: SystmOne, asked through the device's own client, must
//! report the practice the device was enrolled for.

use std::sync::Arc;

use chrono::Utc;
use nhs_identifiers::OdsCode;
use systmone_api::get_organisation_meta_data;
use systmone_gateway::{ControlMessage, Frame, SystmOneState};
use tracing::{debug, info, warn};

use super::state::{DeviceSlot, HubInner, LiveSession, lock};
use crate::registry::{DeviceHealth, Presence};

impl HubInner {
    /// Starts verifying the device's organisation when SystmOne is available and it is not
    /// verified (nor being verified).
    pub(super) fn maybe_verify(self: Arc<Self>, slot: &Arc<DeviceSlot>, session: &LiveSession) {
        {
            let mut state = lock(&session.state);
            if state.verified || state.verifying || state.systmone != Some(SystmOneState::Available)
            {
                return;
            }
            state.verifying = true;
        }
        let slot = slot.clone();
        let session = session.clone();
        tokio::spawn(async move {
            self.verify(&slot, &session).await;
            lock(&session.state).verifying = false;
        });
    }

    /// Asks SystmOne, through the device's own client (so the throttle counts it), which
    /// organisation and user it has; refuses the device when the organisation differs from
    /// its enrolment.
    async fn verify(&self, slot: &DeviceSlot, session: &LiveSession) {
        let request = get_organisation_meta_data::v1::Request::new();
        let meta = match slot.client.send(request).await {
            Ok(meta) => meta,
            Err(error) => {
                debug!(device = %slot.device_id, %error, "organisation check failed; will retry");
                return;
            }
        };
        let site_of = |pick: fn(&get_organisation_meta_data::v1::Site) -> bool| {
            meta.sites
                .iter()
                .find(|s| pick(s))
                .and_then(|s| s.id.clone())
        };
        let primary = site_of(|s| s.primary_site);
        let current = site_of(|s| s.current_site);
        let user = meta.current_user().and_then(|u| u.user_name.clone());
        let matches = [&primary, &current]
            .into_iter()
            .flatten()
            .any(|id| id.parse::<OdsCode>().ok().as_ref() == Some(&slot.ods));
        if matches {
            {
                let mut state = lock(&session.state);
                state.verified = true;
                state.logged_on_user = user.clone();
            }
            info!(device = %slot.device_id, ods = %slot.ods, user = ?user, "device verified: SystmOne reports its enrolled organisation");
            self.presence(
                &slot.device_id,
                Presence::new(true, Utc::now(), DeviceHealth::Ready).with_user(user),
            )
            .await;
        } else {
            let reported = primary.or(current).unwrap_or_default();
            warn!(device = %slot.device_id, enrolled = %slot.ods, reported = %reported, "SystmOne reports another organisation than the device's enrolment; device refused");
            lock(&session.state).wrong_organisation = true;
            self.presence(
                &slot.device_id,
                Presence::new(true, Utc::now(), DeviceHealth::WrongOrganisation).with_user(user),
            )
            .await;
            let _ = session
                .out
                .send(Frame::Control(ControlMessage::Refused {
                    reason: format!(
                        "SystmOne reports organisation {reported}, but this device is enrolled for {}",
                        slot.ods
                    ),
                }))
                .await;
            session.cut.notify_one();
        }
    }
}
