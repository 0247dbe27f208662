using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>A flow as stored: Directus's <c>directus_flows</c> row; <see cref="Json"/> is its REST shape.</summary>
public sealed class FlowRecord
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string? Icon { get; set; }
    public string? Color { get; set; }
    public string? Description { get; set; }
    public string Status { get; set; } = "active";
    public string Trigger { get; set; } = "";
    public string? Accountability { get; set; } = "all";
    public JsonObject Options { get; set; } = [];
    public Guid? Operation { get; set; }
    public DateTimeOffset DateCreated { get; set; }
    public Guid? UserCreated { get; set; }

    public FlowRecord Clone()
    {
        var copy = (FlowRecord)MemberwiseClone();
        copy.Options = (JsonObject)Options.DeepClone();
        return copy;
    }

    /// <summary>Directus's default read of a flow: every field, <c>operations</c> as the ids of its operations.</summary>
    public JsonObject Json(IEnumerable<OperationRecord> operations) => new()
    {
        ["id"] = Id.ToString(), ["name"] = Name, ["icon"] = Icon, ["color"] = Color, ["description"] = Description,
        ["status"] = Status, ["trigger"] = Trigger, ["accountability"] = Accountability, ["options"] = Options.DeepClone(),
        ["operation"] = Operation?.ToString(), ["date_created"] = FlowJson.Time(DateCreated), ["user_created"] = UserCreated?.ToString(),
        ["operations"] = new JsonArray(operations.Where(o => o.Flow == Id).Select(o => (JsonNode)JsonValue.Create(o.Id.ToString())).ToArray()),
    };
}

/// <summary>An operation as stored: Directus's <c>directus_operations</c> row; <see cref="Json"/> is its REST shape.</summary>
public sealed class OperationRecord
{
    public Guid Id { get; set; }
    public string? Name { get; set; }
    public string Key { get; set; } = "";
    public string Type { get; set; } = "";
    public int? PositionX { get; set; }
    public int? PositionY { get; set; }
    public JsonObject Options { get; set; } = [];
    public Guid? Resolve { get; set; }
    public Guid? Reject { get; set; }
    public Guid Flow { get; set; }
    public DateTimeOffset DateCreated { get; set; }
    public Guid? UserCreated { get; set; }

    public OperationRecord Clone()
    {
        var copy = (OperationRecord)MemberwiseClone();
        copy.Options = (JsonObject)Options.DeepClone();
        return copy;
    }

    public JsonObject Json() => new()
    {
        ["id"] = Id.ToString(), ["name"] = Name, ["key"] = Key, ["type"] = Type, ["position_x"] = PositionX, ["position_y"] = PositionY,
        ["options"] = Options.DeepClone(), ["resolve"] = Resolve?.ToString(), ["reject"] = Reject?.ToString(), ["flow"] = Flow.ToString(),
        ["date_created"] = FlowJson.Time(DateCreated), ["user_created"] = UserCreated?.ToString(),
    };
}

/// <summary>
/// Reads a flow's or an operation's payload field by field into its record; a value of the wrong kind is 400
/// <c>INVALID_PAYLOAD</c> naming the field (with <c>prefix</c> for a nested operation: <c>operations[1].type</c>).
/// </summary>
public static class FlowJson
{
    public static readonly string[] Triggers = ["manual", "webhook", "event", "schedule", "operation"];
    private static readonly string[] FlowFields =
        ["id", "name", "icon", "color", "description", "status", "trigger", "accountability", "options", "operation", "operations", "date_created", "user_created"];
    private static readonly string[] OperationFields =
        ["id", "name", "key", "type", "position_x", "position_y", "options", "resolve", "reject", "flow", "date_created", "user_created"];

    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    public static void ApplyFlow(FlowRecord flow, JsonObject data, bool creating)
    {
        Known(data, FlowFields, "");
        if (Has(data, "name")) flow.Name = Text(data, "name", "", required: true)!;
        else if (creating) throw Invalid("name", "\"name\" is required");
        if (Has(data, "icon")) flow.Icon = Text(data, "icon", "");
        if (Has(data, "color")) flow.Color = Text(data, "color", "");
        if (Has(data, "description")) flow.Description = Text(data, "description", "");
        if (Has(data, "status")) flow.Status = OneOf(data, "status", "", ["active", "inactive"])!;
        if (Has(data, "trigger")) flow.Trigger = OneOf(data, "trigger", "", Triggers)!;
        else if (creating) throw Invalid("trigger", $"\"trigger\" is required: one of {string.Join(", ", Triggers)}");
        if (Has(data, "accountability")) flow.Accountability = OneOf(data, "accountability", "", ["all", "activity"], nullable: true);
        if (Has(data, "options")) flow.Options = Object(data, "options", "");
        if (Has(data, "operation")) flow.Operation = Id(data, "operation", "");
    }

    public static void ApplyOperation(OperationRecord operation, JsonObject data, bool creating, string prefix)
    {
        Known(data, OperationFields, prefix);
        if (Has(data, "name")) operation.Name = Text(data, "name", prefix);
        if (Has(data, "key")) operation.Key = Text(data, "key", prefix, required: true)!;
        else if (creating) throw Invalid(prefix + "key", "\"key\" is required");
        if (Has(data, "type")) operation.Type = Text(data, "type", prefix, required: true)!;
        else if (creating) throw Invalid(prefix + "type", "\"type\" is required");
        if (Has(data, "position_x")) operation.PositionX = Integer(data, "position_x", prefix);
        if (Has(data, "position_y")) operation.PositionY = Integer(data, "position_y", prefix);
        if (Has(data, "options")) operation.Options = Object(data, "options", prefix);
        if (Has(data, "resolve")) operation.Resolve = Id(data, "resolve", prefix);
        if (Has(data, "reject")) operation.Reject = Id(data, "reject", prefix);
    }

    public static bool Has(JsonObject data, string field) => data.ContainsKey(field);

    public static DirectusException Invalid(string field, string reason) => DirectusException.InvalidPayload(reason, field);

    private static void Known(JsonObject data, string[] fields, string prefix)
    {
        foreach (var (field, _) in data)
            if (!fields.Contains(field)) throw Invalid(prefix + field, $"\"{prefix}{field}\" is not a field of this record");
    }

    public static string? Text(JsonObject data, string field, string prefix, bool required = false) => data[field] switch
    {
        null when !required => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String && (!required || v.GetValue<string>().Length > 0) => v.GetValue<string>(),
        _ => throw Invalid(prefix + field, $"\"{prefix}{field}\" must be {(required ? "a non-empty" : "a")} string"),
    };

    private static string? OneOf(JsonObject data, string field, string prefix, string[] allowed, bool nullable = false)
    {
        var value = Text(data, field, prefix, required: !nullable);
        return value is null || allowed.Contains(value) ? value
            : throw Invalid(prefix + field, $"\"{prefix}{field}\" must be one of {string.Join(", ", allowed)}{(nullable ? " or null" : "")}");
    }

    private static JsonObject Object(JsonObject data, string field, string prefix) => data[field] switch
    {
        null => [],
        JsonObject o => (JsonObject)o.DeepClone(),
        _ => throw Invalid(prefix + field, $"\"{prefix}{field}\" must be an object"),
    };

    private static int? Integer(JsonObject data, string field, string prefix) => data[field] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        _ => throw Invalid(prefix + field, $"\"{prefix}{field}\" must be a whole number"),
    };

    public static Guid? Id(JsonObject data, string field, string prefix) => data[field] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) && Guid.TryParse(s, out var id) => id,
        _ => throw Invalid(prefix + field, $"\"{prefix}{field}\" must be the id (a UUID) of an operation or null"),
    };
}
