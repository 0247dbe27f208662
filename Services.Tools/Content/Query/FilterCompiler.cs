using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// A <see cref="Filter"/> as a SQL condition, with Directus's semantics: negated operators (<c>_neq</c>,
/// <c>_ncontains</c>, …) do not match nulls (Directus writes <c>NOT col = ?</c>), <c>_empty</c> is null or empty text,
/// LIKE operands are escaped, and relations become EXISTS subqueries that carry the related collection's row filter.
/// A caller's filter is <em>enforced</em>: every field it names must be readable; a permission's own filter is not.
/// </summary>
internal sealed class FilterCompiler(CompileScope scope)
{
    public string Compile(Filter filter, CollectionSchema collection, string alias, bool enforce) => filter switch
    {
        AndFilter and => Join(and.Filters, " AND ", collection, alias, enforce),
        OrFilter or => Join(or.Filters, " OR ", collection, alias, enforce),
        FieldCondition c => Condition(c, collection, alias, enforce),
        RelationalCondition r => Related(r.Field, r.Inner, true, collection, alias, enforce, quantified: false),
        QuantifiedCondition q => Related(q.Field, q.Inner, q.Some, collection, alias, enforce, quantified: true),
        _ => throw new InvalidOperationException(filter.GetType().Name),
    };

    /// <summary>The row filter of <paramref name="access"/> on <paramref name="alias"/>, or null when every row is visible.</summary>
    public string? RowFilter(CollectionReadAccess access, CollectionSchema collection, string alias) =>
        access.RowFilter is null ? null : Compile(access.RowFilter, collection, alias, enforce: false);

    /// <summary>
    /// <paramref name="field"/> of the row <paramref name="alias"/> as the caller sees it: the column, or null on the
    /// rows where no grant that includes the field admits the row (<see cref="CollectionReadAccess.Guard"/>).
    /// </summary>
    public string Column(CollectionSchema collection, string alias, string field) =>
        Guarded(collection, alias, field, $"{alias}.{CompileScope.Quote(field)}");

    /// <summary><paramref name="expression"/>, the value of <paramref name="field"/>, made null where the field is hidden on the row.</summary>
    public string Guarded(CollectionSchema collection, string alias, string field, string expression) =>
        Guard(collection, alias, field) is { } guard ? $"(CASE WHEN {guard} THEN {expression} END)" : expression;

    private string? Guard(CollectionSchema collection, string alias, string field) =>
        scope.Access.Read(collection.Collection)?.Guard(field) is { } filter ? Compile(filter, collection, alias, enforce: false) : null;

    /// <summary>An empty <c>_and</c> or <c>_or</c> constrains nothing, as in Directus (knex drops the empty group).</summary>
    private string Join(IReadOnlyList<Filter> filters, string op, CollectionSchema c, string alias, bool enforce) =>
        filters.Count == 0 ? "TRUE" : "(" + string.Join(op, filters.Select(f => Compile(f, c, alias, enforce))) + ")";

    private FieldSchema Field(string name, CollectionSchema collection, bool enforce)
    {
        var field = collection.Field(name);
        if (field is null || enforce && !(scope.Access.Read(collection.Collection)?.CanRead(name) ?? false))
            throw QueryErrors.ForbiddenField(name, collection.Collection);
        return field;
    }

    private string Related(string name, Filter inner, bool some, CollectionSchema collection, string alias, bool enforce, bool quantified)
    {
        var field = Field(name, collection, enforce);
        var link = Link.Resolve(scope.Schema, collection, field)
            ?? throw QueryErrors.Invalid($"\"{name}\" in \"{collection.Collection}\" is not a relational field, so it takes operators such as {{\"_eq\":…}}, not nested fields.");
        if (quantified && !link.ToMany)
            throw QueryErrors.Invalid($"\"_some\" and \"_none\" need a one-to-many or many-to-many field; \"{name}\" is many-to-one: filter its fields directly.");
        var target = scope.NextAlias();
        var conditions = new List<string> { link.Join(alias, target) };
        if (enforce && RowFilter(scope.Through(link.Target.Collection, name, collection.Collection), link.Target, target) is { } rows)
            conditions.Add(rows);
        conditions.Add(Compile(inner, link.Target, target, enforce));
        var exists = $"EXISTS (SELECT 1 FROM {CompileScope.Quote(link.Target.Collection)} {target} WHERE {string.Join(" AND ", conditions)})";
        // a relational field hidden on a row has no related items there
        if (enforce && Guard(collection, alias, name) is { } guard) exists = $"({guard} AND {exists})";
        return some ? exists : "NOT " + exists;
    }

    private string Condition(FieldCondition c, CollectionSchema collection, string alias, bool enforce)
    {
        var field = Field(c.Field, collection, enforce);
        var op = FilterOperators.Name(c.Operator);
        if (field.IsAlias)
            throw QueryErrors.Invalid($"\"{c.Field}\" in \"{collection.Collection}\" has no value of its own: filter its related items with _some or _none.");
        var column = enforce ? Column(collection, alias, field.Field) : $"{alias}.{CompileScope.Quote(field.Field)}";
        var operand = DynamicValues.Resolve(c.Operand, scope.Context);
        string Value() => operand is null
            ? throw QueryErrors.Invalid($"\"{op}\" on \"{c.Field}\" needs a value, not null.")
            : scope.Param(ColumnValues.Convert(field, operand, op), ColumnValues.SqlType(field));
        string Like(string pattern, bool insensitive, bool negate)
        {
            var text = ColumnValues.IsText(field) ? column : column + "::text";
            var p = scope.Param(pattern, "text");
            return insensitive ? $"lower({text}) {(negate ? "NOT LIKE" : "LIKE")} lower({p})" : $"{text} {(negate ? "NOT LIKE" : "LIKE")} {p}";
        }
        string Pattern(bool before, bool after) => (before ? "%" : "") + Escape(LikeText(operand, op, c.Field)) + (after ? "%" : "");
        string List() => scope.Param(ColumnValues.ConvertList(field, (JsonArray)operand!, op), ColumnValues.SqlType(field) + "[]");
        string Between(bool negate)
        {
            var pair = (JsonArray)operand!;
            if (pair[0] is null || pair[1] is null) throw QueryErrors.Invalid($"\"{op}\" on \"{c.Field}\" needs two values, not null.");
            var low = scope.Param(ColumnValues.Convert(field, pair[0]!, op), ColumnValues.SqlType(field));
            var high = scope.Param(ColumnValues.Convert(field, pair[1]!, op), ColumnValues.SqlType(field));
            return $"{column} {(negate ? "NOT BETWEEN" : "BETWEEN")} {low} AND {high}";
        }
        bool Flag() => operand is JsonValue b && b.GetValueKind() == JsonValueKind.True;
        string Empty(bool empty) => ColumnValues.IsText(field)
            ? empty ? $"({column} IS NULL OR {column} = '')" : $"({column} IS NOT NULL AND {column} <> '')"
            : empty ? $"{column} IS NULL" : $"{column} IS NOT NULL";

        return c.Operator switch
        {
            FilterOperator.Eq => operand is null ? $"{column} IS NULL" : $"{column} = {Value()}",
            FilterOperator.Neq => operand is null ? $"{column} IS NOT NULL" : $"{column} <> {Value()}",
            FilterOperator.Lt => $"{column} < {Value()}",
            FilterOperator.Lte => $"{column} <= {Value()}",
            FilterOperator.Gt => $"{column} > {Value()}",
            FilterOperator.Gte => $"{column} >= {Value()}",
            FilterOperator.In => $"{column} = ANY({List()})",
            FilterOperator.Nin => $"NOT ({column} = ANY({List()}))",
            FilterOperator.Null => Flag() ? $"{column} IS NULL" : $"{column} IS NOT NULL",
            FilterOperator.Nnull => Flag() ? $"{column} IS NOT NULL" : $"{column} IS NULL",
            FilterOperator.Empty => Empty(Flag()),
            FilterOperator.Nempty => Empty(!Flag()),
            FilterOperator.Contains => Like(Pattern(true, true), false, false),
            FilterOperator.Ncontains => Like(Pattern(true, true), false, true),
            FilterOperator.Icontains => Like(Pattern(true, true), true, false),
            FilterOperator.Nicontains => Like(Pattern(true, true), true, true),
            FilterOperator.StartsWith => Like(Pattern(false, true), false, false),
            FilterOperator.NstartsWith => Like(Pattern(false, true), false, true),
            FilterOperator.IstartsWith => Like(Pattern(false, true), true, false),
            FilterOperator.NistartsWith => Like(Pattern(false, true), true, true),
            FilterOperator.EndsWith => Like(Pattern(true, false), false, false),
            FilterOperator.NendsWith => Like(Pattern(true, false), false, true),
            FilterOperator.IendsWith => Like(Pattern(true, false), true, false),
            FilterOperator.NiendsWith => Like(Pattern(true, false), true, true),
            FilterOperator.Between => Between(false),
            FilterOperator.Nbetween => Between(true),
            _ => throw new InvalidOperationException(op),
        };
    }

    private static string LikeText(JsonNode? operand, string op, string field) => operand switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        _ => throw QueryErrors.Invalid($"\"{op}\" on \"{field}\" needs text."),
    };

    /// <summary>LIKE's wildcards taken literally: PostgreSQL's default escape character is the backslash.</summary>
    public static string Escape(string text) => text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
