//! The `backup` and `restore` commands: reading and writing the device,
//! checking that a backup is whole, and reporting what a restore changed —
//! also when it stops half way.

use crate::Ctx;
use crate::backup;
use crate::fail::Failure;
use crate::view::shown;
use serde_json::{Value, json};
use std::path::Path;
use zkproto::terminal::client::{
    Applied, Client, Error as ClientError, RestoreFailure, StopReason,
};
use zkproto::terminal::record::user::UserLayout;
use zkproto::terminal::restore::{Action, Plan, Tables};

// ---------------------------------------------------------------- backup

/// `backup FILE`: reads users and templates, checks them against the
/// device's counts, and only then writes the file (atomically).
pub async fn backup_cmd(c: &mut Client, ctx: &Ctx, file: &Path) -> Result<(), Failure> {
    let di = c.device_info().await.map_err(|e| ctx.err(e))?;
    let time = di.time;
    let snap = c.snapshot().await.map_err(|e| match e {
        ClientError::Incomplete { mismatches } => Failure::network(format!(
            "the backup is incomplete and was not written: {}",
            mismatches
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ))
        .hint("was someone enrolling on the device meanwhile? try again; if it persists, the firmware's table and counts disagree"),
        e => ctx.err(e),
    })?;
    let (users, templates) = (snap.users, snap.templates);
    let layout = snap.layout.unwrap_or(UserLayout::Extended72);
    let source = backup::DeviceSource {
        serial: di.serial_number.clone(),
        platform: di.platform.clone(),
        firmware: Some(di.firmware_version.clone()),
        device_name: di.device_name.clone(),
        mac: di.mac.clone(),
    };
    let doc = backup::build(
        source,
        Some(time.to_string()),
        layout,
        ctx.enc,
        &users,
        &templates,
    );
    backup::write(file, &doc)?;
    if ctx.json {
        ctx.print_json(&json!({
            "file": file.display().to_string(),
            "users": users.len(),
            "templates": templates.len(),
            "serial": di.serial_number,
        }));
    } else {
        println!(
            "backed up {} user(s) and {} template(s) from {} to {} (the file holds PINs: keep it private)",
            users.len(),
            templates.len(),
            shown(di.serial_number.as_deref().unwrap_or(&ctx.label)),
            shown(&file.display().to_string())
        );
    }
    Ok(())
}

// ---------------------------------------------------------------- restore

/// `restore FILE [--dry-run]`: plans, writes, and reports every planned
/// change as made or not made — also when the device refuses a write or
/// the connection drops half way (the report is printed, then the error).
/// The planning, the writing and the record-layout probe of an empty
/// device are the library's (`Client::restore`); this prints.
pub async fn restore(
    c: &mut Client,
    ctx: &Ctx,
    b: &backup::Loaded,
    dry_run: bool,
) -> Result<(), Failure> {
    let tables = Tables {
        users: &b.users,
        templates: &b.templates,
        encoding: b.encoding,
    };
    let result = if dry_run {
        c.plan_restore(tables, b.layout).await
    } else {
        c.restore(tables, b.layout).await
    };
    let (report, failure) = match result {
        Ok(report) => (report, None),
        Err(RestoreFailure::Plan(e)) => return Err(backup::not_restorable(&e)),
        Err(RestoreFailure::Device(e)) => return Err(ctx.err(e)),
        Err(RestoreFailure::Stopped { report, error }) => {
            let mut f = match &error {
                StopReason::Device(e) => ctx.err(e.clone()),
                StopReason::Plan(e) => backup::not_restorable(e),
                _ => Failure::network(error.to_string()),
            };
            f.message = format!(
                "restore stopped after {} of {} change(s): {}",
                report.applied.count(),
                report.changes(),
                f.message
            );
            (*report, Some(f))
        }
        Err(e) => return Err(Failure::network(e.to_string())),
    };
    let layout = report.layout;
    let known = report.layout_known;
    let shown_report = Report {
        plan: &report.plan,
        applied: &report.applied,
        dry_run,
        failed: failure.is_some(),
        enc: ctx.enc,
    };
    if ctx.json {
        let mut v = shown_report.json();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("user_layout".into(), json!(backup::layout_name(layout)));
            obj.insert("layout_known".into(), json!(known));
            obj.insert("source_serial".into(), json!(b.serial));
            obj.insert(
                "error".into(),
                failure
                    .as_ref()
                    .map_or(Value::Null, |f| f.json()["error"].clone()),
            );
        }
        ctx.print_json(&v);
    } else {
        if !known {
            println!(
                "the device has no users yet: {}-byte user records {}",
                layout.record_len(),
                if dry_run {
                    "assumed (as in the backup)"
                } else {
                    "used"
                }
            );
        }
        print!("{}", shown_report.text());
    }
    match failure {
        Some(f) => Err(f),
        None => Ok(()),
    }
}

/// A restore's outcome as printed.
struct Report<'a> {
    plan: &'a Plan,
    applied: &'a Applied,
    dry_run: bool,
    failed: bool,
    enc: zkproto::terminal::record::text::TextEncoding,
}

impl Report<'_> {
    /// What happened to a step with this action (`written`: the device
    /// accepted it).
    fn verb(&self, a: Action, written: bool) -> &'static str {
        match (a, self.dry_run, written) {
            (Action::Unchanged, _, _) => "unchanged",
            (Action::Add, true, _) => "would add",
            (Action::Update, true, _) => "would update",
            (Action::Add, false, true) => "added",
            (Action::Update, false, true) => "updated",
            (Action::Add, false, false) => "not added",
            (Action::Update, false, false) => "not updated",
        }
    }

    /// Counts of user (`users`) or template steps with this action that
    /// were (`written`) or were not written.
    fn count(&self, users: bool, a: Action, written: bool) -> usize {
        let steps: Vec<(Action, bool)> = if users {
            self.plan
                .users
                .iter()
                .enumerate()
                .map(|(i, s)| (s.action, self.applied.user(i)))
                .collect()
        } else {
            self.plan
                .templates
                .iter()
                .enumerate()
                .map(|(i, s)| (s.action, self.applied.template(i)))
                .collect()
        };
        steps
            .iter()
            .filter(|(act, w)| *act == a && (*w == written || self.dry_run))
            .count()
    }

    fn json(&self) -> Value {
        let enc = self.enc;
        let users: Vec<_> = self
            .plan
            .users
            .iter()
            .enumerate()
            .map(|(i, s)| {
                json!({
                    "action": s.action.name(), "user_id": s.user_id, "uid": s.user.uid(),
                    "name": s.user.name(enc), "changes": s.changes,
                    "notes": s.notes.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "applied": self.applied.user(i),
                })
            })
            .collect();
        let templates: Vec<_> = self
            .plan
            .templates
            .iter()
            .enumerate()
            .map(|(i, s)| {
                json!({
                    "action": s.action.name(), "user_id": s.user_id, "uid": s.template.uid,
                    "finger": s.template.finger, "applied": self.applied.template(i),
                })
            })
            .collect();
        let p = self.plan;
        json!({
            "dry_run": self.dry_run,
            "complete": !self.failed,
            "users": users,
            "templates": templates,
            "summary": {
                "users": {
                    "add": p.count_users(Action::Add),
                    "update": p.count_users(Action::Update),
                    "unchanged": p.count_users(Action::Unchanged),
                    "kept": p.kept,
                },
                "templates": {
                    "add": p.count_templates(Action::Add),
                    "update": p.count_templates(Action::Update),
                    "unchanged": p.count_templates(Action::Unchanged),
                },
                "applied": {
                    "users": self.applied.users_written(),
                    "templates": self.applied.templates_written(),
                },
            },
        })
    }

    fn text(&self) -> String {
        let enc = self.enc;
        let mut out = String::new();
        for (i, s) in self.plan.users.iter().enumerate() {
            let mut line = format!(
                "{:<12} user {} ({}) uid {}",
                self.verb(s.action, self.applied.user(i)),
                s.user_id,
                s.user.name(enc),
                s.user.uid()
            );
            if !s.changes.is_empty() {
                line.push_str(&format!(": {}", s.changes.join(", ")));
            }
            for n in &s.notes {
                line.push_str(&format!(" [{n}]"));
            }
            out.push_str(&shown(&line));
            out.push('\n');
        }
        for (i, s) in self.plan.templates.iter().enumerate() {
            if s.action == Action::Unchanged {
                continue;
            }
            let line = format!(
                "{:<12} fingerprint {} of user {}",
                self.verb(s.action, self.applied.template(i)),
                s.template.finger,
                s.user_id
            );
            out.push_str(&shown(&line));
            out.push('\n');
        }
        let part = |users: bool, a: Action| {
            let done = self.count(users, a, true);
            let mut s = format!("{done} {}", self.verb(a, true));
            let missed = if self.dry_run {
                0
            } else {
                self.count(users, a, false)
            };
            if missed > 0 {
                s.push_str(&format!(" ({missed} {})", self.verb(a, false)));
            }
            s
        };
        let p = self.plan;
        out.push_str(&format!(
            "users: {}, {}, {} unchanged, {} on the device not in the backup (kept); \
             templates: {}, {}, {} unchanged\n",
            part(true, Action::Add),
            part(true, Action::Update),
            p.count_users(Action::Unchanged),
            p.kept,
            part(false, Action::Add),
            part(false, Action::Update),
            p.count_templates(Action::Unchanged),
        ));
        if self.dry_run {
            out.push_str("dry run: nothing was changed\n");
        } else if self.failed {
            out.push_str(&format!(
                "restore stopped part way: {} change(s) were made (listed as added/updated), \
                 the ones listed as \"not added\"/\"not updated\" were not\n",
                self.applied.count()
            ));
        }
        out
    }
}
