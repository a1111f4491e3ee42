//! The `backup` and `restore` commands: reading and writing the device,
//! checking that a backup is whole, and reporting what a restore changed —
//! also when it stops half way.

use crate::Ctx;
use crate::backup;
use crate::fail::Failure;
use crate::view::shown;
use serde_json::{Value, json};
use std::path::Path;
use zkproto::terminal::client::{Client, Error as ClientError};
use zkproto::terminal::record::user::UserLayout;
use zkproto::terminal::restore::{Action, Plan};

// ---------------------------------------------------------------- backup

/// Compares what was read with the counts the device reports
/// (`CMD_GET_FREE_SIZES`); a backup that misses users or templates must not
/// look complete.
fn check_counts(
    users: usize,
    templates: usize,
    dev_users: i32,
    dev_templates: i32,
) -> Result<(), Failure> {
    let mut wrong = Vec::new();
    if i64::try_from(users).ok() != Some(i64::from(dev_users)) {
        wrong.push(format!(
            "{users} user(s) read but the device counts {dev_users}"
        ));
    }
    if i64::try_from(templates).ok() != Some(i64::from(dev_templates)) {
        wrong.push(format!(
            "{templates} template(s) read but the device counts {dev_templates}"
        ));
    }
    if wrong.is_empty() {
        return Ok(());
    }
    Err(Failure::network(format!(
        "the backup is incomplete and was not written: {}",
        wrong.join("; ")
    ))
    .hint("was someone enrolling on the device meanwhile? try again; if it persists, the firmware's table and counts disagree"))
}

/// `backup FILE`: reads users and templates, checks them against the
/// device's counts, and only then writes the file (atomically).
pub async fn backup_cmd(c: &mut Client, ctx: &Ctx, file: &Path) -> Result<(), Failure> {
    let di = c.device_info().await.map_err(|e| ctx.err(e))?;
    let time = di.time;
    let users = c.users().await.map_err(|e| ctx.err(e))?;
    let layout = c.user_layout().unwrap_or(UserLayout::Extended72);
    let templates = c.templates().await.map_err(|e| ctx.err(e))?;
    let sizes = c.free_sizes().await.map_err(|e| ctx.err(e))?;
    check_counts(users.len(), templates.len(), sizes.users, sizes.fingers)?;
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

/// Which planned writes reached the device.
#[derive(Debug, Clone, Default)]
struct Applied {
    users: Vec<bool>,
    templates: Vec<bool>,
}

impl Applied {
    fn for_plan(plan: &Plan) -> Applied {
        Applied {
            users: vec![false; plan.users.len()],
            templates: vec![false; plan.templates.len()],
        }
    }

    fn user(&self, i: usize) -> bool {
        self.users.get(i).copied().unwrap_or(false)
    }

    fn template(&self, i: usize) -> bool {
        self.templates.get(i).copied().unwrap_or(false)
    }

    fn count(&self) -> usize {
        self.users
            .iter()
            .chain(&self.templates)
            .filter(|a| **a)
            .count()
    }
}

/// Marks entry `i` of `flags` as written.
fn mark(flags: &mut [bool], i: usize) {
    if let Some(f) = flags.get_mut(i) {
        *f = true;
    }
}

/// Writes the plan's changes, recording each one that the device accepted.
/// An empty device does not tell its record size: the first write in the
/// backup's layout shows it (the device refuses a record of the wrong
/// size), else the other layout is used and the plan is made again.
async fn apply(
    c: &mut Client,
    ctx: &Ctx,
    b: &backup::Loaded,
    before: &Before<'_>,
    plan: &mut Plan,
    layout: &mut UserLayout,
    applied: &mut Applied,
) -> Result<(), Failure> {
    let mut guard = c.disable().await.map_err(|e| ctx.err(e))?;
    let result: Result<(), Stop> = async {
        if !before.layout_known
            && let Some(i) = plan
                .users
                .iter()
                .position(|s| s.action != Action::Unchanged)
            && let Some(first) = plan.users.get(i)
        {
            match guard.put_user(&first.user).await {
                Ok(_) => mark(&mut applied.users, i),
                Err(ClientError::Refused { .. }) => {
                    *layout = match *layout {
                        UserLayout::Extended72 => UserLayout::Compact28,
                        UserLayout::Compact28 => UserLayout::Extended72,
                    };
                    *plan = backup::plan(b, *layout, ctx.enc, before.users, before.templates)
                        .map_err(Stop::Plan)?;
                    *applied = Applied::for_plan(plan);
                }
                Err(e) => return Err(Stop::Device(e)),
            }
        }
        for (i, step) in plan.users.iter().enumerate() {
            if step.action == Action::Unchanged || applied.user(i) {
                continue;
            }
            guard.put_user(&step.user).await?;
            mark(&mut applied.users, i);
        }
        for (i, step) in plan.templates.iter().enumerate() {
            if step.action == Action::Unchanged {
                continue;
            }
            guard.upload_template(&step.template).await?;
            mark(&mut applied.templates, i);
        }
        guard.refresh_data().await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => guard.enable().await.map_err(|e| ctx.err(e)),
        Err(Stop::Plan(f)) => Err(f),
        Err(Stop::Device(e)) => {
            // What was written is made effective when the device still
            // listens (a refusal); the guard re-enables it on drop.
            if matches!(e, ClientError::Refused { .. }) && applied.count() > 0 {
                let _ = guard.refresh_data().await;
            }
            Err(ctx.err(e))
        }
    }
}

/// What the device held before the restore.
struct Before<'a> {
    users: &'a [zkproto::terminal::record::user::User],
    templates: &'a [zkproto::terminal::record::template::Template],
    /// Whether the device told its user record size (it had users).
    layout_known: bool,
}

/// Why writing stopped.
enum Stop {
    /// The device refused, or the connection failed.
    Device(ClientError),
    /// The plan for the other record layout cannot be made.
    Plan(Failure),
}

impl From<ClientError> for Stop {
    fn from(e: ClientError) -> Stop {
        Stop::Device(e)
    }
}

/// `restore FILE [--dry-run]`: plans, writes, and reports every planned
/// change as made or not made — also when the device refuses a write or
/// the connection drops half way (the report is printed, then the error).
pub async fn restore(
    c: &mut Client,
    ctx: &Ctx,
    b: &backup::Loaded,
    dry_run: bool,
) -> Result<(), Failure> {
    let current = c.users().await.map_err(|e| ctx.err(e))?;
    let known = c.user_layout();
    let current_templates = c.templates().await.map_err(|e| ctx.err(e))?;
    let mut layout = known.unwrap_or(b.layout);
    let mut plan = backup::plan(b, layout, ctx.enc, &current, &current_templates)?;
    let mut applied = Applied::for_plan(&plan);
    let mut failure = None;
    if !dry_run && plan.has_changes() {
        let wrote = apply(
            c,
            ctx,
            b,
            &Before {
                users: &current,
                templates: &current_templates,
                layout_known: known.is_some(),
            },
            &mut plan,
            &mut layout,
            &mut applied,
        )
        .await;
        if let Err(f) = wrote {
            let total = plan
                .users
                .iter()
                .filter(|s| s.action != Action::Unchanged)
                .count()
                + plan
                    .templates
                    .iter()
                    .filter(|s| s.action != Action::Unchanged)
                    .count();
            let mut f = f;
            f.message = format!(
                "restore stopped after {} of {total} change(s): {}",
                applied.count(),
                f.message
            );
            failure = Some(f);
        }
    }
    let report = Report {
        plan: &plan,
        applied: &applied,
        dry_run,
        failed: failure.is_some(),
        enc: ctx.enc,
    };
    if ctx.json {
        let mut v = report.json();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("user_layout".into(), json!(backup::layout_name(layout)));
            obj.insert("layout_known".into(), json!(known.is_some()));
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
        if known.is_none() {
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
        print!("{}", report.text());
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
                    "users": self.applied.users.iter().filter(|a| **a).count(),
                    "templates": self.applied.templates.iter().filter(|a| **a).count(),
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
