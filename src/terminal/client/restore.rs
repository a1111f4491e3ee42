//! Backing up the users and templates of a terminal ([`Client::snapshot`],
//! checked against the device's own counts) and restoring them: planned
//! against what the device holds ([`crate::terminal::restore::plan`]),
//! written with the device disabled, and reported step by step — also when
//! writing stops half way. Nothing is lost silently: the device is enabled
//! again whatever happens, what was written is made effective where the
//! device still listens, and the report says what was and was not done.

use super::{Client, Error};
use crate::terminal::record::template::Template;
use crate::terminal::record::user::{User, UserLayout};
use crate::terminal::restore::{self, Action, Plan, PlanError, Tables};

/// Which steps of a [`Plan`] reached the device (the device accepted the
/// write).
///
/// ```
/// use zkproto::terminal::client::Applied;
/// use zkproto::terminal::restore::Plan;
/// let a = Applied::for_plan(&Plan::default());
/// assert_eq!((a.count(), a.user(0), a.template(0)), (0, false, false));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    users: Vec<bool>,
    templates: Vec<bool>,
}

impl Applied {
    /// Nothing written yet, for every step of `plan`.
    pub fn for_plan(plan: &Plan) -> Applied {
        Applied {
            users: vec![false; plan.users.len()],
            templates: vec![false; plan.templates.len()],
        }
    }

    /// Whether user step `i` was written.
    pub fn user(&self, i: usize) -> bool {
        self.users.get(i).copied().unwrap_or(false)
    }

    /// Whether template step `i` was written.
    pub fn template(&self, i: usize) -> bool {
        self.templates.get(i).copied().unwrap_or(false)
    }

    /// How many user steps were written.
    pub fn users_written(&self) -> usize {
        self.users.iter().filter(|a| **a).count()
    }

    /// How many template steps were written.
    pub fn templates_written(&self) -> usize {
        self.templates.iter().filter(|a| **a).count()
    }

    /// How many steps were written.
    pub fn count(&self) -> usize {
        self.users_written() + self.templates_written()
    }

    fn mark_user(&mut self, i: usize) {
        if let Some(f) = self.users.get_mut(i) {
            *f = true;
        }
    }

    fn mark_template(&mut self, i: usize) {
        if let Some(f) = self.templates.get_mut(i) {
            *f = true;
        }
    }
}

/// What a restore did (or, from [`Client::plan_restore`], would do).
#[derive(Clone, Debug)]
pub struct RestoreReport {
    /// The plan, for the user record layout used.
    pub plan: Plan,
    /// The user record layout written: the device's, or — on a device with
    /// no users, which does not tell it — the backup's, or the other one
    /// when the device refused that.
    pub layout: UserLayout,
    /// Whether the device told its layout (it had users).
    pub layout_known: bool,
    /// Which steps were written.
    pub applied: Applied,
}

impl RestoreReport {
    /// How many steps change something (add or update).
    pub fn changes(&self) -> usize {
        let user_changes = self.plan.users.iter().map(|s| s.action);
        let template_changes = self.plan.templates.iter().map(|s| s.action);
        user_changes
            .chain(template_changes)
            .filter(|a| *a != Action::Unchanged)
            .count()
    }
}

/// Why a restore wrote nothing, or stopped.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreFailure {
    /// The backup cannot be restored to this device; nothing was written.
    /// Fix the backup (or free uids on the device) and try again.
    #[error(transparent)]
    Plan(PlanError),
    /// Reading the device's tables failed; nothing was written.
    #[error(transparent)]
    Device(Error),
    /// Writing stopped part way: `report.applied` says which steps were
    /// written (and made effective where the device still listened), the
    /// device was enabled again. Fix the cause and restore again: steps
    /// already written are then unchanged.
    #[error("restore stopped after {} of {} change(s): {error}", report.applied.count(), report.changes())]
    Stopped {
        /// What was done before it stopped.
        report: Box<RestoreReport>,
        /// Why it stopped.
        error: StopReason,
    },
}

/// Why writing stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StopReason {
    /// The device refused a write, or the connection failed.
    #[error(transparent)]
    Device(Error),
    /// The device refused the backup's record layout, and the backup
    /// cannot be restored in the other one.
    #[error(transparent)]
    Plan(PlanError),
}

/// The users and templates of a terminal, read for a backup and checked
/// against the counts the device reports (`CMD_GET_FREE_SIZES`).
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The users.
    pub users: Vec<User>,
    /// The fingerprint templates.
    pub templates: Vec<Template>,
    /// The user record layout (`None` when the device has no users).
    pub layout: Option<UserLayout>,
}

/// A count that disagrees between what was read and what the device
/// reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountMismatch {
    /// `"user"` or `"template"`.
    pub table: &'static str,
    /// Records read.
    pub read: usize,
    /// Records the device counts.
    pub device_count: i32,
}

impl std::fmt::Display for CountMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}(s) read but the device counts {}",
            self.read, self.table, self.device_count
        )
    }
}

/// The counts that disagree (none when both agree).
fn count_mismatches(
    users: usize,
    templates: usize,
    dev_users: i32,
    dev_templates: i32,
) -> Vec<CountMismatch> {
    [
        ("user", users, dev_users),
        ("template", templates, dev_templates),
    ]
    .into_iter()
    .filter(|&(_, read, dev)| i64::try_from(read).ok() != Some(i64::from(dev)))
    .map(|(table, read, device_count)| CountMismatch {
        table,
        read,
        device_count,
    })
    .collect()
}

/// What the device held before the restore.
struct Before {
    users: Vec<User>,
    templates: Vec<Template>,
    known: Option<UserLayout>,
}

impl Client {
    /// Reads every user and template for a backup, then the device's
    /// counts: a snapshot that misses records (someone enrolled meanwhile,
    /// or the firmware's table and counts disagree) is
    /// [`Error::Incomplete`], never a silently partial backup.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client) -> Result<(), zkproto::terminal::client::Error> {
    /// let snap = dev.snapshot().await?;
    /// println!("{} users, {} templates", snap.users.len(), snap.templates.len());
    /// # Ok(()) }
    /// ```
    pub async fn snapshot(&mut self) -> Result<Snapshot, Error> {
        let users = self.users().await?;
        let layout = self.user_layout();
        let templates = self.templates().await?;
        let sizes = self.free_sizes().await?;
        let mismatches = count_mismatches(users.len(), templates.len(), sizes.users, sizes.fingers);
        if !mismatches.is_empty() {
            return Err(Error::Incomplete { mismatches });
        }
        Ok(Snapshot {
            users,
            templates,
            layout,
        })
    }

    async fn before_restore(&mut self) -> Result<Before, RestoreFailure> {
        let users = self.users().await.map_err(RestoreFailure::Device)?;
        let known = self.user_layout();
        let templates = self.templates().await.map_err(RestoreFailure::Device)?;
        Ok(Before {
            users,
            templates,
            known,
        })
    }

    /// Reads the device and plans `backup` against it: nothing written
    /// yet. `backup_layout` stands in for a device without users.
    async fn first_plan(
        &mut self,
        backup: Tables<'_>,
        backup_layout: UserLayout,
    ) -> Result<(Before, RestoreReport), RestoreFailure> {
        let before = self.before_restore().await?;
        let layout = before.known.unwrap_or(backup_layout);
        let plan = self
            .plan_against(backup, &before, layout)
            .map_err(RestoreFailure::Plan)?;
        let report = RestoreReport {
            applied: Applied::for_plan(&plan),
            plan,
            layout,
            layout_known: before.known.is_some(),
        };
        Ok((before, report))
    }

    fn plan_against(
        &self,
        backup: Tables<'_>,
        before: &Before,
        layout: UserLayout,
    ) -> Result<Plan, PlanError> {
        let device = Tables {
            users: &before.users,
            templates: &before.templates,
            encoding: self.options.encoding,
        };
        restore::plan(backup, device, layout)
    }

    /// What restoring `backup` would write; nothing is written. On a device
    /// without users (whose record layout is unknown) the plan assumes
    /// `backup_layout`.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client, users: &[zkproto::terminal::record::user::User]) -> Result<(), Box<dyn std::error::Error>> {
    /// use zkproto::terminal::record::user::UserLayout;
    /// use zkproto::terminal::restore::Tables;
    /// let backup = Tables { users, templates: &[], encoding: dev.encoding() };
    /// let report = dev.plan_restore(backup, UserLayout::Extended72).await?;
    /// println!("{} change(s) to make", report.changes());
    /// # Ok(()) }
    /// ```
    pub async fn plan_restore(
        &mut self,
        backup: Tables<'_>,
        backup_layout: UserLayout,
    ) -> Result<RestoreReport, RestoreFailure> {
        let (_, report) = self.first_plan(backup, backup_layout).await?;
        Ok(report)
    }

    /// Restores `backup`: plans as [`plan_restore`](Client::plan_restore)
    /// does, then, with the device disabled, writes every user and template
    /// that is new or different (users matched by user id keep the device's
    /// uid; users the backup does not mention are kept), refreshes the
    /// device and enables it again. An empty device does not tell its
    /// record size: the first write, in `backup_layout`, shows it (the
    /// device refuses a record of the wrong size), else the other layout is
    /// planned and written.
    ///
    /// ```no_run
    /// # async fn run(dev: &mut zkproto::terminal::client::Client, users: &[zkproto::terminal::record::user::User]) -> Result<(), Box<dyn std::error::Error>> {
    /// use zkproto::terminal::client::RestoreFailure;
    /// use zkproto::terminal::record::user::UserLayout;
    /// use zkproto::terminal::restore::Tables;
    /// let backup = Tables { users, templates: &[], encoding: dev.encoding() };
    /// match dev.restore(backup, UserLayout::Extended72).await {
    ///     Ok(report) => println!("{} change(s) written", report.applied.count()),
    ///     Err(RestoreFailure::Stopped { report, error }) => {
    ///         eprintln!("stopped after {} change(s): {error}", report.applied.count());
    ///     }
    ///     Err(e) => eprintln!("nothing written: {e}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn restore(
        &mut self,
        backup: Tables<'_>,
        backup_layout: UserLayout,
    ) -> Result<RestoreReport, RestoreFailure> {
        let (before, mut report) = self.first_plan(backup, backup_layout).await?;
        if !report.plan.has_changes() {
            return Ok(report);
        }
        match self.write_restore(backup, &before, &mut report).await {
            Ok(()) => Ok(report),
            Err(error) => Err(RestoreFailure::Stopped {
                report: Box::new(report),
                error,
            }),
        }
    }

    /// Writes the report's plan with the device disabled, marking each
    /// accepted step.
    async fn write_restore(
        &mut self,
        backup: Tables<'_>,
        before: &Before,
        report: &mut RestoreReport,
    ) -> Result<(), StopReason> {
        // The other layout's plan, made before the device is disabled
        // (planning needs `self`, which the guard holds).
        let other = match report.layout {
            UserLayout::Extended72 => UserLayout::Compact28,
            UserLayout::Compact28 => UserLayout::Extended72,
        };
        let other_plan = self.plan_against(backup, before, other);
        let mut guard = self.disable().await.map_err(StopReason::Device)?;
        let result: Result<(), StopReason> = async {
            if before.known.is_none()
                && let Some(i) = report
                    .plan
                    .users
                    .iter()
                    .position(|s| s.action != Action::Unchanged)
                && let Some(first) = report.plan.users.get(i)
            {
                match guard.put_user(&first.user).await {
                    Ok(_) => report.applied.mark_user(i),
                    Err(Error::Refused { .. }) => {
                        report.plan = other_plan.map_err(StopReason::Plan)?;
                        report.layout = other;
                        report.applied = Applied::for_plan(&report.plan);
                    }
                    Err(e) => return Err(StopReason::Device(e)),
                }
            }
            for (i, step) in report.plan.users.iter().enumerate() {
                if step.action == Action::Unchanged || report.applied.user(i) {
                    continue;
                }
                guard
                    .put_user(&step.user)
                    .await
                    .map_err(StopReason::Device)?;
                report.applied.mark_user(i);
            }
            for (i, step) in report.plan.templates.iter().enumerate() {
                if step.action == Action::Unchanged {
                    continue;
                }
                guard
                    .upload_template(&step.template)
                    .await
                    .map_err(StopReason::Device)?;
                report.applied.mark_template(i);
            }
            guard.refresh_data().await.map_err(StopReason::Device)?;
            Ok(())
        }
        .await;
        match result {
            Ok(()) => guard.enable().await.map_err(StopReason::Device),
            Err(e) => {
                // What was written is made effective when the device still
                // listens (a refusal); the guard enables it again on drop.
                if matches!(e, StopReason::Device(Error::Refused { .. }))
                    && report.applied.count() > 0
                {
                    let _ = guard.refresh_data().await;
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_that_disagree_are_named() {
        assert!(count_mismatches(3, 5, 3, 5).is_empty());
        let m = count_mismatches(3, 5, 4, 5);
        assert_eq!(
            m,
            [CountMismatch {
                table: "user",
                read: 3,
                device_count: 4
            }]
        );
        assert_eq!(m[0].to_string(), "3 user(s) read but the device counts 4");
        let m = count_mismatches(0, 2, -1, 0);
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[1].to_string(),
            "2 template(s) read but the device counts 0"
        );
    }
}
