//! Every "may this user see or do this?" question is answered here, and nowhere else.
//!
//! Deny by default: each question lists who is allowed, anyone else gets `false`, and
//! handlers turn `false` into 404 so a caller cannot learn that a resource exists.

use diesel::prelude::*;

use crate::db::enums::{Role, UserStatus};
use crate::db::schema::{conversations, guardianships, matches, student_profiles, teacher_schools};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};

/// The signed-in person acting on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub role: Role,
    pub display_name: String,
}

/// Things a role may do regardless of relations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Programme-wide oversight: every queue, alert, audit and access log, vetting, settings.
    ProgrammeOversight,
    /// Review held messages (of one's own students for teachers).
    ReviewHeldMessages,
    /// Send messages in a conversation one takes part in.
    Converse,
    /// Ask for a mentor.
    RequestMentor,
    /// Answer mentorship requests.
    AnswerRequests,
    /// Read a child's conversations (read only).
    ReadChildConversations,
}

pub fn role_has(role: Role, capability: Capability) -> bool {
    use Capability::*;
    matches!(
        (role, capability),
        (Role::Coordinator, ProgrammeOversight)
            | (Role::Coordinator, ReviewHeldMessages)
            | (Role::Teacher, ReviewHeldMessages)
            | (Role::Student, Converse)
            | (Role::Mentor, Converse)
            | (Role::Student, RequestMentor)
            | (Role::Mentor, AnswerRequests)
            | (Role::Guardian, ReadChildConversations)
    )
}

impl Actor {
    pub fn can(&self, capability: Capability) -> bool {
        role_has(self.role, capability)
    }

    /// Returns `Ok` when the actor has the capability, else a 404 (not a 403: the route should
    /// look like it does not exist for roles that cannot use it).
    #[track_caller]
    pub fn require(&self, capability: Capability) -> AppResult<()> {
        if self.can(capability) {
            Ok(())
        } else {
            Err(AppError::not_found())
        }
    }
}

/// How a reader relates to a conversation: everyone but participants is written to the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadRelation {
    Participant,
    Guardian,
    Teacher,
    Coordinator,
}

impl ReadRelation {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadRelation::Participant => "participant",
            ReadRelation::Guardian => "guardian",
            ReadRelation::Teacher => "teacher",
            ReadRelation::Coordinator => "coordinator",
        }
    }

    pub fn is_logged(self) -> bool {
        self != ReadRelation::Participant
    }
}

/// May `actor` see this student's record (profile, match, conversations)?
pub fn student_relation(conn: &mut DbConnection, actor: &Actor, student_id: &str) -> AppResult<Option<ReadRelation>> {
    Ok(match actor.role {
        Role::Coordinator => Some(ReadRelation::Coordinator),
        Role::Student if actor.user_id == student_id => Some(ReadRelation::Participant),
        Role::Guardian => {
            let suspended: Option<bool> = guardianships::table
                .filter(guardianships::guardian_id.eq(&actor.user_id))
                .filter(guardianships::student_id.eq(student_id))
                .select(guardianships::view_suspended)
                .first(conn)
                .optional()?;
            match suspended {
                Some(false) => Some(ReadRelation::Guardian),
                _ => None,
            }
        }
        Role::Teacher => {
            let count: i64 = student_profiles::table
                .inner_join(teacher_schools::table.on(teacher_schools::school_id.eq(student_profiles::school_id)))
                .filter(student_profiles::user_id.eq(student_id))
                .filter(teacher_schools::teacher_id.eq(&actor.user_id))
                .count()
                .get_result(conn)?;
            (count > 0).then_some(ReadRelation::Teacher)
        }
        _ => None,
    })
}

/// May `actor` read this conversation, and as what? `None` means "answer 404".
pub fn conversation_relation(
    conn: &mut DbConnection,
    actor: &Actor,
    conversation_id: &str,
) -> AppResult<Option<ReadRelation>> {
    let pair: Option<(String, String)> = conversations::table
        .inner_join(matches::table)
        .filter(conversations::id.eq(conversation_id))
        .select((matches::student_id, matches::mentor_id))
        .first(conn)
        .optional()?;
    let Some((student_id, mentor_id)) = pair else {
        return Ok(None);
    };
    if actor.user_id == student_id || actor.user_id == mentor_id {
        return Ok(Some(ReadRelation::Participant));
    }
    match actor.role {
        Role::Mentor | Role::Student => Ok(None),
        _ => student_relation(conn, actor, &student_id),
    }
}

/// The conversations `actor` might read, oldest first: a superset that `conversation_relation`
/// then decides on one by one. It only narrows the search (a teacher of one school need not
/// look at every conversation of the programme); it never grants access itself.
pub fn candidate_conversations(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<String>> {
    let base = conversations::table
        .inner_join(matches::table)
        .order((conversations::created_at.asc(), conversations::id.asc()))
        .select(conversations::id);
    let me = actor.user_id.as_str();
    Ok(match actor.role {
        Role::Coordinator => base.load(conn)?,
        Role::Student | Role::Mentor => {
            base.filter(matches::student_id.eq(me).or(matches::mentor_id.eq(me))).load(conn)?
        }
        Role::Guardian => base
            .filter(matches::student_id.eq_any(
                guardianships::table.filter(guardianships::guardian_id.eq(me)).select(guardianships::student_id),
            ))
            .load(conn)?,
        Role::Teacher => base
            .filter(
                matches::student_id.eq_any(
                    student_profiles::table
                        .filter(
                            student_profiles::school_id.eq_any(
                                teacher_schools::table
                                    .filter(teacher_schools::teacher_id.eq(me))
                                    .select(teacher_schools::school_id),
                            ),
                        )
                        .select(student_profiles::user_id),
                ),
            )
            .load(conn)?,
    })
}

/// May `actor` send into this conversation? Only its two participants.
pub fn may_send(conn: &mut DbConnection, actor: &Actor, conversation_id: &str) -> AppResult<bool> {
    if !actor.can(Capability::Converse) {
        return Ok(false);
    }
    Ok(conversation_relation(conn, actor, conversation_id)? == Some(ReadRelation::Participant))
}

/// Only active accounts may sign in or use tokens.
pub fn may_sign_in(status: UserStatus) -> bool {
    status == UserStatus::Active
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_denied_unless_listed() {
        assert!(role_has(Role::Coordinator, Capability::ProgrammeOversight));
        assert!(!role_has(Role::Teacher, Capability::ProgrammeOversight));
        assert!(!role_has(Role::Guardian, Capability::Converse));
        assert!(!role_has(Role::Teacher, Capability::Converse));
        assert!(role_has(Role::Teacher, Capability::ReviewHeldMessages));
        assert!(!role_has(Role::Mentor, Capability::ReviewHeldMessages));
        assert!(!role_has(Role::Student, Capability::AnswerRequests));
    }
}
