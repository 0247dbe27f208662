using AiAssistant.Services.Tools.Content.Schema;
using Npgsql;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>One statement being compiled: its parameters, its table aliases, and who it is compiled for.</summary>
internal sealed class CompileScope(SchemaSnapshot schema, ICollectionAccess access, QueryContext context)
{
    private readonly List<NpgsqlParameter> _parameters = [];
    private int _aliases;

    public SchemaSnapshot Schema { get; } = schema;
    public ICollectionAccess Access { get; } = access;
    public QueryContext Context { get; } = context;

    public string NextAlias() => $"t{_aliases++}";

    /// <summary>A positional parameter cast to <paramref name="sqlType"/>, so PostgreSQL compares it as the column's type.</summary>
    public string Param(object value, string sqlType)
    {
        _parameters.Add(new NpgsqlParameter { Value = value });
        return $"${_parameters.Count}::{sqlType}";
    }

    public SqlStatement Statement(string text) => new(text, _parameters.ToList());

    /// <summary>The caller's access to <paramref name="collection"/> reached through <paramref name="field"/> of <paramref name="from"/>: 403 on that field when the collection is not readable.</summary>
    public CollectionReadAccess Through(string collection, string field, string from) =>
        Access.Read(collection) ?? throw QueryErrors.ForbiddenField(field, from);

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    /// <summary>A string literal for names the schema vouches for (object keys in the JSON built by the database).</summary>
    public static string Literal(string text) => "'" + text.Replace("'", "''") + "'";
}

/// <summary>A relational field resolved against the schema: how a row of <see cref="Target"/> joins the row holding the field.</summary>
internal sealed record Link(bool ToMany, CollectionSchema Target, string ParentColumn, string TargetColumn, string? SortField)
{
    public string Join(string parentAlias, string targetAlias) =>
        $"{targetAlias}.{CompileScope.Quote(TargetColumn)} = {parentAlias}.{CompileScope.Quote(ParentColumn)}";

    /// <summary>The link behind <paramref name="field"/>: a many-to-one foreign key, or an o2m alias (an m2m is an o2m to its junction, as Directus reads it).</summary>
    public static Link? Resolve(SchemaSnapshot schema, CollectionSchema collection, FieldSchema field)
    {
        if (!field.IsAlias && schema.ManyToOne(collection.Collection, field.Field) is { } m2o
            && schema.Collection(m2o.RelatedCollection!) is { PrimaryKey: { } pk } one)
            return new Link(false, one, field.Field, pk, null);
        if (field.IsAlias && collection.PrimaryKey is { } parentKey && schema.OneToMany(collection.Collection, field.Field) is { } o2m
            && schema.Collection(o2m.Collection) is { PrimaryKey: not null } many)
            return new Link(true, many, parentKey, o2m.Field, o2m.SortField);
        return null;
    }
}
