//! Unique constraints, foreign keys and checks, with their deferral and actions.

/// A unique constraint over one or more columns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct UniqueConstraint {
    /// Constraint name (`uq_<table>_<columns>` unless given).
    pub name: String,
    /// Columns, in order.
    pub columns: Vec<String>,
    /// NULLs equal each other, so at most one row may hold them (`NULLS NOT DISTINCT`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub nulls_not_distinct: bool,
    /// When the constraint is checked.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Deferral::is_immediate")
    )]
    pub deferral: Deferral,
}

impl UniqueConstraint {
    /// A unique constraint over these columns, checked immediately, NULLs distinct.
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        columns: impl IntoIterator<Item = S>,
    ) -> Self {
        UniqueConstraint {
            name: name.into(),
            columns: columns.into_iter().map(Into::into).collect(),
            nulls_not_distinct: false,
            deferral: Deferral::Immediate,
        }
    }
}

/// When a unique constraint or foreign key is checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Deferral {
    /// At the end of each statement, and it cannot be deferred (`NOT DEFERRABLE`, the default).
    #[default]
    Immediate,
    /// `DEFERRABLE INITIALLY IMMEDIATE`: checked per statement unless a transaction runs
    /// `SET CONSTRAINTS … DEFERRED`.
    DeferrableImmediate,
    /// `DEFERRABLE INITIALLY DEFERRED`: checked at commit.
    Deferred,
}

impl Deferral {
    /// Reads the value of `deferrable = "…"`: `immediate` (`DEFERRABLE INITIALLY
    /// IMMEDIATE`) or `deferred` (`DEFERRABLE INITIALLY DEFERRED`).
    ///
    /// ```
    /// use retort_schema::Deferral;
    /// assert_eq!(Deferral::parse_deferrable("deferred"), Some(Deferral::Deferred));
    /// assert_eq!(Deferral::parse_deferrable("later"), None);
    /// ```
    pub fn parse_deferrable(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "immediate" => Some(Deferral::DeferrableImmediate),
            "deferred" => Some(Deferral::Deferred),
            _ => None,
        }
    }

    /// The value of `deferrable = "…"` for this state; `None` when not deferrable.
    pub fn deferrable(self) -> Option<&'static str> {
        match self {
            Deferral::Immediate => None,
            Deferral::DeferrableImmediate => Some("immediate"),
            Deferral::Deferred => Some("deferred"),
        }
    }

    /// The SQL clause after the constraint (empty for the default).
    pub fn sql(self) -> &'static str {
        match self {
            Deferral::Immediate => "",
            Deferral::DeferrableImmediate => " DEFERRABLE INITIALLY IMMEDIATE",
            Deferral::Deferred => " DEFERRABLE INITIALLY DEFERRED",
        }
    }

    /// Whether it is the default, [`Deferral::Immediate`].
    pub fn is_immediate(&self) -> bool {
        *self == Deferral::Immediate
    }
}

/// What a foreign key does when the referenced row is deleted or updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ReferentialAction {
    /// Refuse, checked at the end of the statement (the SQL default).
    #[default]
    NoAction,
    /// Refuse immediately.
    Restrict,
    /// Delete or update the referencing rows too.
    Cascade,
    /// Set the referencing columns to NULL.
    SetNull,
    /// Set the referencing columns to their defaults.
    SetDefault,
}

impl ReferentialAction {
    /// Every action with the spelling accepted in attributes.
    pub const ALL: [(&'static str, ReferentialAction); 5] = [
        ("no_action", ReferentialAction::NoAction),
        ("restrict", ReferentialAction::Restrict),
        ("cascade", ReferentialAction::Cascade),
        ("set_null", ReferentialAction::SetNull),
        ("set_default", ReferentialAction::SetDefault),
    ];

    /// Parses `cascade`, `set_null`, `SET NULL`, … (case and `_`/space insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        let key = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Self::ALL
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, a)| *a)
    }

    /// The SQL spelling (`SET NULL`).
    pub fn sql(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }

    #[cfg(feature = "serde")]
    fn is_default(&self) -> bool {
        *self == ReferentialAction::NoAction
    }
}

/// A foreign key from columns of this table to columns of another.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct ForeignKey {
    /// Constraint name (`fk_<table>_<column>_<referred table>`).
    pub name: String,
    /// Referencing columns of this table.
    pub columns: Vec<String>,
    /// Referenced table.
    pub referred_table: String,
    /// Referenced columns, matching `columns` one to one.
    pub referred_columns: Vec<String>,
    /// Action on delete of the referenced row.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "ReferentialAction::is_default")
    )]
    pub on_delete: ReferentialAction,
    /// Action on update of the referenced key.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "ReferentialAction::is_default")
    )]
    pub on_update: ReferentialAction,
    /// Marked `NOT VALID` in the database: rows written before it was added are not checked
    /// (read from PostgreSQL; models always ask for a validated key).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub not_valid: bool,
    /// When the key is checked.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Deferral::is_immediate")
    )]
    pub deferral: Deferral,
}

/// A named check constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct CheckConstraint {
    /// Constraint name.
    pub name: String,
    /// Boolean SQL expression.
    pub expression: String,
    /// Marked `NOT VALID` in the database: rows written before it was added are not checked
    /// (read from PostgreSQL; models always ask for a validated check).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub not_valid: bool,
}
