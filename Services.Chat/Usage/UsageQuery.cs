using System.Globalization;
using AiAssistant.ServiceDefaults.Errors;
using Microsoft.Extensions.Primitives;

namespace AiAssistant.Services.Chat.Usage;

/// <summary>
/// The filters of <c>GET /ai/usage</c>: <c>user</c>, <c>provider</c>, <c>model</c> (or Directus's
/// <c>filter[user][_eq]</c>, <c>filter[provider][_eq]</c>, <c>filter[model][_eq]</c>), and the range <c>from</c>
/// (inclusive) … <c>to</c> (exclusive), each an ISO 8601 date (<c>2026-12-01</c>, UTC; a date as <c>to</c> includes
/// that whole day) or date and time with an offset (<c>2026-12-01T08:00:00Z</c>). Anything it cannot read is a 400
/// <c>INVALID_QUERY</c> naming the parameter.
/// </summary>
public sealed record UsageQuery(Guid? User, string? Provider, string? Model, DateTimeOffset? From, DateTimeOffset? To)
{
    private static readonly string[] Fields = ["user", "provider", "model"];

    public static UsageQuery Parse(IQueryCollection query)
    {
        Guid? user = null;
        string? provider = null, model = null;
        DateTimeOffset? from = null, to = null;
        foreach (var (name, values) in query)
        {
            var field = name switch
            {
                "user" or "provider" or "model" or "from" or "to" => name,
                _ when name.StartsWith("filter[", StringComparison.Ordinal) => FilterField(name),
                _ => null, // other parameters are ignored, as Directus ignores what it does not know
            };
            if (field is null) continue;
            var value = Single(name, values);
            switch (field)
            {
                case "user":
                    var id = Guid.TryParse(value, out var parsed) ? parsed : throw Invalid(name, $"\"{name}\" must be a user id (a UUID)");
                    user = user is null || user == id ? id : throw Contradicts(name);
                    break;
                case "provider":
                    provider = Set(provider, name, value);
                    break;
                case "model":
                    model = Set(model, name, value);
                    break;
                case "from":
                    from = Date(name, value, endOfDay: false);
                    break;
                case "to":
                    to = Date(name, value, endOfDay: true);
                    break;
            }
        }
        if (from is { } f && to is { } t && f >= t) throw Invalid("from", "\"from\" must be before \"to\"");
        return new UsageQuery(user, provider, model, from, to);
    }

    /// <summary><c>filter[user][_eq]</c> → user; any other filter is named in the 400.</summary>
    private static string FilterField(string name)
    {
        foreach (var field in Fields)
            if (name == $"filter[{field}][_eq]") return field;
        throw Invalid(name, $"\"{name}\" is not a filter of /ai/usage: use filter[user][_eq], filter[provider][_eq], filter[model][_eq], from or to");
    }

    private static string Single(string name, StringValues values)
    {
        if (values.Count != 1) throw Invalid(name, $"\"{name}\" must be given once");
        return values[0] is { Length: > 0 } value ? value : throw Invalid(name, $"\"{name}\" must not be empty");
    }

    private static string Set(string? current, string name, string value) =>
        current is null || current == value ? value : throw Contradicts(name);

    private static DirectusException Contradicts(string name) => Invalid(name, $"\"{name}\" contradicts another filter on the same field");

    private static DateTimeOffset Date(string name, string value, bool endOfDay)
    {
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            return new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(endOfDay ? 1 : 0);
        // a time needs its offset: a bare local time would mean something else on every server
        if (value.Length > 10 && (value.EndsWith('Z') || value.EndsWith("z") || value[^6] is '+' or '-')
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            return at.ToUniversalTime();
        throw Invalid(name, $"\"{name}\" must be an ISO 8601 date (2026-12-01) or date and time with an offset (2026-12-01T08:00:00Z), not \"{Cut(value)}\"");
    }

    private static string Cut(string value) => value.Length > 40 ? value[..40] + "…" : value;

    private static DirectusException Invalid(string parameter, string reason) =>
        new(StatusCodes.Status400BadRequest, ErrorCodes.InvalidQuery, $"Invalid query. {reason}.",
            new Dictionary<string, object?> { ["reason"] = reason, ["parameter"] = parameter });
}
