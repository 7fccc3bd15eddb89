//! The upload half every pushing command shares (`push`, the pre-push hook): one remote's
//! assessment with its index of verified manifests, its plan, and the transfer that records
//! what it uploaded. Commands never run these steps themselves, so none can skip one.

use super::notice::{MissingObject, Notice, Observer, Plan, Transfer, TransferFailure};
use crate::dvc::cache::LocalCache;
use crate::dvc::dir_manifest::RelpathRules;
use crate::error::Error;
use crate::objects::snapshot::RepoContext;
use crate::objects::verified_dirs::VerifiedDirs;
use crate::objects::DestinationObjects;
use crate::sync::{self, AssessOptions, Assessment, MemberCheck};
use crate::transfer::{self, progress::Progress, TransferOutcome, TransferPlan};

/// One remote, assessed for an upload.
pub(crate) struct UploadTarget {
    pub jobs: usize,
    pub assessment: Assessment,
    /// Manifests verified complete on this remote: not read again, and grown by uploads.
    verified: VerifiedDirs,
}

impl UploadTarget {
    /// Expands and checks `dest` ([`sync::assess`]: an invalid manifest stops here).
    pub fn assess(
        dest: DestinationObjects,
        ctx: &RepoContext,
        jobs: usize,
        members: MemberCheck,
    ) -> Result<UploadTarget, Error> {
        let mut verified = VerifiedDirs::load(ctx.git.git_dir(), &dest.remote.url);
        let options = AssessOptions {
            jobs,
            full_local_check: false,
            members,
            relpaths: RelpathRules::ThisPlatform,
            limits: ctx.git.limits(),
        };
        let assessment = sync::assess(dest, &ctx.cache, &options, Some(&mut verified))?;
        Ok(UploadTarget {
            jobs,
            assessment,
            verified,
        })
    }

    pub fn remote(&self) -> &str {
        &self.assessment.remote.name
    }

    pub fn location(&self) -> String {
        self.assessment.storage.describe()
    }

    /// Objects in neither the cache nor the remote, in hash order; `keep` filters them.
    pub fn missing_everywhere(
        &self,
        keep: impl Fn(&crate::objects::Provenance) -> bool,
    ) -> Vec<MissingObject> {
        self.assessment
            .missing_everywhere()
            .into_iter()
            .filter(|(_, p)| keep(p))
            .map(|(hash, used_by)| MissingObject {
                hash: hash.clone(),
                used_by: used_by.clone(),
                remote: self.remote().to_string(),
            })
            .collect()
    }

    /// The uploads this remote needs. When there are any, temporaries of interrupted
    /// uploads are removed from it first (said as a notice); a push with nothing to upload
    /// leaves them to the next one that uploads (finding them reads the whole remote).
    pub fn plan(&self, cache: &LocalCache, observer: &mut dyn Observer) -> TransferPlan {
        let plan = self.assessment.plan(cache);
        if !plan.is_empty() {
            let cleaned = self.assessment.storage.remove_stale_temporaries();
            if cleaned > 0 {
                observer.notice(Notice::RemoteTemporariesRemoved(cleaned));
            }
        }
        plan
    }

    /// Says what `plan` will move, against what the remote has.
    pub fn announce(&self, plan: &TransferPlan, observer: &mut dyn Observer) {
        let location = self.location();
        observer.notice(Notice::Planned(&Plan {
            remote: self.remote(),
            location: &location,
            referenced: self.assessment.set.len(),
            present: self.assessment.present.len(),
            transfers: plan.len(),
        }));
    }

    /// A bar for this remote's transfer of `total` items.
    pub fn progress(&self, total: usize, observer: &mut dyn Observer) -> Progress {
        observer.progress(
            Transfer::Upload {
                remote: self.remote(),
            },
            total,
        )
    }

    /// Uploads `plan` and records the manifests now known complete on the remote.
    pub fn upload(
        &mut self,
        plan: &TransferPlan,
        cache: &LocalCache,
        progress: &Progress,
    ) -> TransferOutcome {
        let outcome = transfer::run(self.assessment.storage.as_ref(), plan, self.jobs, progress);
        self.assessment
            .record_uploads(plan, &outcome, &mut self.verified, cache);
        self.verified.save();
        outcome
    }

    /// Keeps the index as it is (nothing was uploaded; what the assessment verified counts).
    pub fn save_index(&self) {
        self.verified.save();
    }

    /// Says how many requests this remote's storage sent.
    pub fn requests(&self, observer: &mut dyn Observer) {
        let location = self.location();
        observer.notice(Notice::Requests {
            remote: self.remote(),
            location: &location,
            count: self.assessment.storage.requests(),
        });
    }

    /// The objects `outcome` failed to upload, with the outputs that need them.
    pub fn failures(
        &self,
        failed: Vec<(crate::dvc::hash::DvcHash, crate::storage::StorageError)>,
    ) -> Vec<TransferFailure> {
        failed
            .into_iter()
            .map(|(hash, error)| {
                TransferFailure::object(
                    self.remote(),
                    &hash,
                    self.assessment.set.provenance(&hash),
                    error,
                )
            })
            .collect()
    }
}
