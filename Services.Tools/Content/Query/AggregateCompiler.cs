using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// <c>aggregate</c> and <c>groupBy</c> in Directus's response shape: <c>{"count": 3}</c> for <c>count=*</c>,
/// <c>{"sum": {"price": 10}}</c> per field, and each group key beside them (<c>{"author": 1}</c>,
/// <c>{"date_created_year": 2024}</c>). Counts are numbers; sums and averages of <c>bigInteger</c> and <c>decimal</c>
/// are strings, as those fields are.
/// </summary>
internal sealed class AggregateCompiler(CollectionSchema collection, string alias, CollectionReadAccess read, FilterCompiler filters)
{
    public sealed record Group(GroupKey Key, FieldSchema Field, string Expression);

    public IReadOnlyList<Group> Groups(IReadOnlyList<GroupKey> keys) => keys.Select(key =>
    {
        var field = Column(key.Field, "groupBy");
        var column = filters.Column(collection, alias, field.Field);
        if (key.Function is not { } part) return new Group(key, field, column);
        if (!ColumnValues.IsTemporal(field) || field.Type == "time" && part is DatePart.Year or DatePart.Month or DatePart.Week or DatePart.Day or DatePart.Weekday)
            throw QueryErrors.Invalid($"\"groupBy\" {DateParts.Name(part)}({key.Field}) needs a date or time field; \"{key.Field}\" is {field.Type}.");
        var source = field.Type == "timestamp" ? $"({column} AT TIME ZONE 'UTC')" : column;
        var unit = part switch { DatePart.Weekday => "dow", _ => DateParts.Name(part) };
        return new Group(key, field, $"extract({unit} from {source})::integer");
    }).ToList();

    public string Object(IReadOnlyList<Aggregation> aggregations, IReadOnlyList<Group> groups)
    {
        var pairs = new List<string>();
        foreach (var byFunction in aggregations.GroupBy(a => a.Function))
        {
            var name = AggregateFunctions.Name(byFunction.Key);
            var fields = byFunction.Select(a => a.Field).Distinct().ToList();
            if (fields.Contains("*"))
            {
                if (fields.Count > 1) throw QueryErrors.Invalid("\"aggregate[count]\" takes * or field names, not both.");
                pairs.Add($"'count', count(*)");
                continue;
            }
            var inner = fields.Select(f => $"{CompileScope.Literal(f)}, {Function(byFunction.Key, Column(f, $"aggregate[{name}]"))}");
            pairs.Add($"{CompileScope.Literal(name)}, json_build_object({string.Join(", ", inner)})");
        }
        foreach (var g in groups)
            pairs.Add($"{CompileScope.Literal(g.Key.OutputName)}, {(g.Key.Function is null ? ColumnValues.Output(g.Field, g.Expression) : g.Expression)}");
        return pairs.Count == 0 ? "'{}'::json" : $"json_build_object({string.Join(", ", pairs)})";
    }

    private FieldSchema Column(string name, string where)
    {
        var field = collection.Field(name);
        if (field is null || !read.CanRead(name)) throw QueryErrors.ForbiddenField(name, collection.Collection);
        if (field.IsAlias) throw QueryErrors.Invalid($"\"{where}\" needs fields with a value; \"{name}\" is an alias of related items.");
        return field;
    }

    private string Function(AggregateFunction function, FieldSchema field)
    {
        var column = filters.Column(collection, alias, field.Field);
        string Numeric(string sql) => ColumnValues.IsNumeric(field)
            ? field.Type is "bigInteger" or "decimal" ? $"({sql})::text" : sql
            : throw QueryErrors.Invalid($"\"{AggregateFunctions.Name(function)}\" needs a numeric field; \"{field.Field}\" is {field.Type}.");
        string Average(string sql) => Numeric(field.Type == "decimal" ? sql : $"({sql})::double precision");
        string Extreme(string sql) => ColumnValues.IsNumeric(field) || ColumnValues.IsTemporal(field) || field.Type is "string" or "text"
            ? ColumnValues.Output(field, sql)
            : throw QueryErrors.Invalid($"\"{AggregateFunctions.Name(function)}\" needs a number, date or text field; \"{field.Field}\" is {field.Type}.");
        return function switch
        {
            AggregateFunction.Count => $"count({column})",
            AggregateFunction.CountDistinct => $"count(DISTINCT {column})",
            AggregateFunction.Sum => Numeric($"sum({column})"),
            AggregateFunction.SumDistinct => Numeric($"sum(DISTINCT {column})"),
            AggregateFunction.Avg => Average($"avg({column})"),
            AggregateFunction.AvgDistinct => Average($"avg(DISTINCT {column})"),
            AggregateFunction.Min => Extreme($"min({column})"),
            AggregateFunction.Max => Extreme($"max({column})"),
            _ => throw new InvalidOperationException(function.ToString()),
        };
    }
}
