//! What one GraphQL request may cost, checked as early as each can be: the document's size before it is parsed,
//! its size once every fragment is spread (memoised per fragment, so `...F` ten times over seven levels is
//! counted in microseconds, not expanded) and its directives before it is validated, and the complexity of a
//! whole batch against one budget after validation. Nothing here waits for the work it is meant to prevent.

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Pos, Positioned, ServerError, ServerResult, ValidationResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The longest document accepted, in bytes (the longest dashboard query is a few KB).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024;
/// The most fields a document may select once its fragments are spread.
pub const MAX_FIELDS: u64 = 2_000;
/// The complexity one request, or one whole batch, may add up to. A list field costs its page size times
/// what it selects, so `wallets(first: 100) { payoutRequests(first: 100) { … } }` is priced as 10,000 rows.
pub const MAX_COMPLEXITY: usize = 10_000;
/// The most aliases a document from an anonymous caller may use (signing in lifts it): nothing but `__typename`
/// answers such a caller, so a hundred aliases are only ever an attack on the server's time.
pub const ANONYMOUS_MAX_ALIASES: u64 = 10;
/// The most times an anonymous caller's document may select a field again under a name it already selected in the
/// same selection set.
pub const ANONYMOUS_MAX_REPEATS: u64 = 10;
/// The directives an executable document may use.
const KNOWN_DIRECTIVES: [&str; 2] = ["skip", "include"];

/// The complexity of a list field: its page size (`first`, else `last`, else the default page) times what each
/// row selects. Used by every field that returns a page.
pub fn page_complexity(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.or(last).map_or(crate::services::reads::DEFAULT_PAGE as usize, |n| n.max(1) as usize);
    rows.saturating_mul(child_complexity.max(1)).saturating_add(1)
}

/// The complexity left for the rest of a batch; shared by every operation in it.
#[derive(Clone)]
pub struct Budget(Arc<AtomicUsize>);

impl Budget {
    pub fn new(total: usize) -> Self {
        Budget(Arc::new(AtomicUsize::new(total)))
    }

    /// Takes `cost` from the budget, or says why the operation is refused.
    fn charge(&self, cost: usize) -> Result<(), String> {
        self.0.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(cost)).map(|_| ()).map_err(
            |left| {
                format!(
                    "this operation's complexity is {cost} but only {left} of the request's {MAX_COMPLEXITY} is \
                     left: ask for fewer rows (`first`) or fields, or send the operations separately"
                )
            },
        )
    }
}

/// What a document selects once every fragment is spread: its fields, and for an anonymous caller its aliases and
/// its fields selected again under a name already selected in the same set.
#[derive(Clone, Copy, Default)]
struct Count {
    fields: u64,
    aliases: u64,
    repeats: u64,
}

impl Count {
    fn add(self, other: Count) -> Count {
        Count {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
            repeats: self.repeats.saturating_add(other.repeats),
        }
    }

    /// Whether counting on can change nothing: the document is refused already.
    fn over(self) -> bool {
        self.fields > MAX_FIELDS || self.aliases > ANONYMOUS_MAX_ALIASES || self.repeats > ANONYMOUS_MAX_REPEATS
    }
}

/// Counts what a document selects with every fragment spread, and refuses unknown directives.
struct Walk<'a> {
    doc: &'a ExecutableDocument,
    /// What each fragment selects, once counted; `None` while being counted (a cycle, which validation reports).
    fragments: HashMap<&'a str, Option<Count>>,
    /// Whether to count aliases and repeats too (only anonymous documents are capped on them).
    anonymous: bool,
}

impl<'a> Walk<'a> {
    fn directives(&self, list: &[Positioned<async_graphql::parser::types::Directive>]) -> Result<(), String> {
        match list.iter().find(|d| !KNOWN_DIRECTIVES.contains(&d.node.name.node.as_str())) {
            Some(d) => Err(format!("unknown directive @{}: only @skip and @include are supported", d.node.name.node)),
            None => Ok(()),
        }
    }

    fn fields(&mut self, set: &'a SelectionSet) -> Result<Count, String> {
        let mut total = Count::default();
        // The names selected so far in this set, for the repeats of an anonymous document.
        let mut names: Vec<&str> = Vec::new();
        for item in &set.items {
            let n = match &item.node {
                Selection::Field(f) => {
                    self.directives(&f.node.directives)?;
                    let mut own = Count { fields: 1, ..Count::default() };
                    if self.anonymous {
                        let key = f.node.response_key().node.as_str();
                        own.aliases = u64::from(f.node.alias.is_some());
                        own.repeats = u64::from(names.contains(&key));
                        names.push(key);
                    }
                    own.add(self.fields(&f.node.selection_set.node)?)
                }
                Selection::InlineFragment(f) => {
                    self.directives(&f.node.directives)?;
                    self.fields(&f.node.selection_set.node)?
                }
                Selection::FragmentSpread(s) => {
                    self.directives(&s.node.directives)?;
                    self.fragment(s.node.fragment_name.node.as_str())?
                }
            };
            total = total.add(n);
            if total.over() {
                return Ok(total); // already refused; no need to count on
            }
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Count, String> {
        match self.fragments.get(name) {
            Some(Some(n)) => return Ok(*n),
            Some(None) => return Ok(Count::default()),
            None => {}
        }
        let Some((key, def)) = self.doc.fragments.get_key_value(name) else {
            return Ok(Count::default()); // unknown: validation says so
        };
        self.fragments.insert(key.as_str(), None);
        self.directives(&def.node.directives)?;
        let n = self.fields(&def.node.selection_set.node)?;
        self.fragments.insert(key.as_str(), Some(n));
        Ok(n)
    }
}

/// What `doc` selects once spread; refuses more than `MAX_FIELDS` fields and unknown directives.
fn measure(doc: &ExecutableDocument, anonymous: bool) -> Result<Count, String> {
    let mut walk = Walk { doc, fragments: HashMap::new(), anonymous };
    let mut total = Count::default();
    for (_, op) in doc.operations.iter() {
        walk.directives(&op.node.directives)?;
        for var in &op.node.variable_definitions {
            walk.directives(&var.node.directives)?;
        }
        total = total.add(walk.fields(&op.node.selection_set.node)?);
    }
    for name in doc.fragments.keys() {
        walk.fragment(name.as_str())?;
    }
    if total.fields > MAX_FIELDS {
        return Err(format!(
            "the document selects more than {MAX_FIELDS} fields once its fragments are spread; ask for less"
        ));
    }
    Ok(total)
}

/// Refuses a document that selects more than `MAX_FIELDS` fields once spread, or uses an unknown directive.
pub fn check_document(doc: &ExecutableDocument) -> Result<(), String> {
    measure(doc, false).map(drop)
}

/// Refuses an anonymous caller's document that uses more than `ANONYMOUS_MAX_ALIASES` aliases or repeats fields
/// more than `ANONYMOUS_MAX_REPEATS` times.
fn check_anonymous(count: Count) -> Result<(), String> {
    if count.aliases > ANONYMOUS_MAX_ALIASES {
        return Err(format!(
            "without a token a document may use at most {ANONYMOUS_MAX_ALIASES} aliases; sign in (send \
             `Authorization: Bearer <JWT>`)"
        ));
    }
    if count.repeats > ANONYMOUS_MAX_REPEATS {
        return Err(format!(
            "without a token a document may select a field again in the same selection at most \
             {ANONYMOUS_MAX_REPEATS} times; sign in (send `Authorization: Bearer <JWT>`)"
        ));
    }
    Ok(())
}

/// Whether any operation asks for `__schema` or `__type` at its top level.
fn introspects(doc: &ExecutableDocument) -> bool {
    doc.operations.iter().any(|(_, op)| {
        op.node.selection_set.node.items.iter().any(|item| match &item.node {
            Selection::Field(f) => matches!(f.node.name.node.as_str(), "__schema" | "__type"),
            _ => false,
        })
    })
}

/// Refuses an empty document, or one longer than `MAX_DOCUMENT_BYTES`, before it is parsed.
pub fn check_size(query: &str) -> ServerResult<()> {
    if query.trim().is_empty() {
        return Err(ServerError::new("the document is empty; send a query, such as `{ me { role } }`", None));
    }
    if query.len() > MAX_DOCUMENT_BYTES {
        return Err(ServerError::new(
            format!("the document is {} bytes; at most {MAX_DOCUMENT_BYTES} are accepted", query.len()),
            None,
        ));
    }
    Ok(())
}

/// The limits a parsed document must keep (`check_document`); without a token, no introspection and the
/// anonymous caps on aliases and repeated fields (`check_anonymous`), refused as UNAUTHENTICATED since a token
/// lifts them.
pub fn check_parsed(doc: &ExecutableDocument, signed_in: bool) -> ServerResult<()> {
    let count = measure(doc, !signed_in).map_err(|why| ServerError::new(why, None))?;
    if signed_in {
        return Ok(());
    }
    let unauthenticated = |why: String| {
        crate::graphql::error::to_graphql(&crate::error::AppError::Unauthenticated(why))
            .into_server_error(Pos::default())
    };
    if introspects(doc) {
        let why = "sign in to read the schema: introspection needs a token (the SDL is schema.graphql)";
        return Err(unauthenticated(why.into()));
    }
    check_anonymous(count).map_err(unauthenticated)
}

/// The extension of the schema that batches run on: charges each operation's complexity, once validation has
/// computed it, to the batch's one [`Budget`].
pub struct Charge;

impl ExtensionFactory for Charge {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Charge)
    }
}

#[async_trait::async_trait]
impl Extension for Charge {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if let Some(budget) = ctx.data_opt::<Budget>() {
            budget.charge(result.complexity).map_err(|why| vec![ServerError::new(why, None)])?;
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str) -> Result<(), String> {
        check_document(&async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn nested_fragment_spreads_are_counted_without_expanding_them() {
        // Ten spreads a level over nine levels: 10^9 fields if expanded, which would not finish.
        let mut doc = String::from("query { ...F9 }\nfragment F0 on Query { me { id } }\n");
        for level in 1..=9 {
            let spreads = format!("...F{} ", level - 1).repeat(10);
            doc.push_str(&format!("fragment F{level} on Query {{ {spreads} }}\n"));
        }
        let err = check(&doc).unwrap_err();
        assert!(err.contains("more than 2000 fields"), "{err}");
    }

    #[test]
    fn ordinary_documents_and_cycles_pass_to_validation() {
        check("query { payments(first: 10) { nodes { id amount } } }").unwrap();
        check("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }").unwrap();
        assert!(check("query @evil { me { id } }").unwrap_err().contains("@evil"));
        assert!(check("query { me { id @skip(if: true) name @include(if: false) } }").is_ok());
    }

    #[test]
    fn anonymous_aliases_and_repeats_are_counted_through_fragments() {
        let anonymous =
            |q: &str| measure(&async_graphql::parser::parse_query(q).unwrap(), true).and_then(check_anonymous);
        let aliases = |n: usize| (0..n).map(|i| format!("a{i}: __typename ")).collect::<String>();
        anonymous(&format!("{{ {} }}", aliases(10))).unwrap();
        assert!(anonymous(&format!("{{ {} }}", aliases(11))).unwrap_err().contains("at most 10 aliases"));
        // Four aliases in a fragment spread three times are twelve.
        let spread = format!(
            "{{ ...F ...G ...H }} fragment F on Query {{ {0} }} fragment G on Query {{ ...F }} \
                              fragment H on Query {{ ...F }}",
            aliases(4)
        );
        assert!(anonymous(&spread).unwrap_err().contains("aliases"));
        anonymous(&format!("{{ {} }}", "__typename ".repeat(11))).unwrap();
        assert!(anonymous(&format!("{{ {} }}", "__typename ".repeat(12))).unwrap_err().contains("at most 10 times"));
        anonymous("{ me { id } payments { nodes { id } } }").unwrap();
    }

    #[test]
    fn a_batch_shares_one_budget() {
        let budget = Budget::new(100);
        let other = budget.clone();
        budget.charge(60).unwrap();
        assert!(other.charge(50).unwrap_err().contains("only 40"));
        other.charge(40).unwrap();
    }
}
