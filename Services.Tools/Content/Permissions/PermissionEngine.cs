using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using AiAssistant.Contracts;
using AiAssistant.Contracts.Access;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Query;
using Grpc.Core;
using Grpc.Net.ClientFactory;
using AccessService = AiAssistant.Contracts.Access.Access;

namespace AiAssistant.Services.Tools.Content.Permissions;

/// <summary>
/// The one permission engine of the content store: what a caller may do on each collection, from the permission rows
/// of their policies (the role's and their own; the Public policy without a token), fetched from Settings over gRPC and
/// kept per access version. <see cref="CallerResolver"/>'s version moves within 200 ms of any access change
/// (<c>AccessChanged</c> / Redis), and a new version drops everything kept here, so a changed permission applies
/// within a second on every replica. Admins bypass it.
/// </summary>
public sealed class PermissionEngine(GrpcClientFactory clients, CallerResolver resolver) : IPermissionSource
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<string, CallerPermissions> _cache = new();
    private long _version = -1;

    /// <summary>The caller's permissions; <paramref name="caller"/> null is the Public policy.</summary>
    public async ValueTask<CallerPermissions> ForAsync(CallerIdentity? caller, CancellationToken ct)
    {
        if (caller?.Admin == true) return CallerPermissions.Admin;
        var version = resolver.Version;
        if (Interlocked.Exchange(ref _version, version) != version) _cache.Clear();
        var key = caller?.UserId ?? "";
        if (_cache.TryGetValue(key, out var known)) return known;

        GetPermissionsReply reply;
        try
        {
            var client = clients.CreateClient<AccessService.AccessClient>(nameof(AccessService.AccessClient));
            reply = await client.GetPermissionsAsync(new GetPermissionsRequest { UserId = key }, cancellationToken: ct);
        }
        catch (RpcException e)
        {
            // without the rows nothing may be read: a clear 503, never a guess
            throw DirectusException.ServiceUnavailable(ResourceNames.Settings, $"Permissions unavailable ({e.StatusCode})");
        }
        var permissions = CallerPermissions.From(reply);
        if (_cache.Count >= MaxEntries) _cache.Clear();
        _cache[key] = permissions;
        return permissions;
    }
}

/// <summary>Where a caller's permissions come from: <see cref="PermissionEngine"/>, or a test's fixed rows.</summary>
public interface IPermissionSource
{
    /// <summary>The caller's permissions; <paramref name="caller"/> null is the Public policy.</summary>
    ValueTask<CallerPermissions> ForAsync(CallerIdentity? caller, CancellationToken ct);
}

/// <summary>
/// A caller's permissions per collection and action. Several policies granting the same action combine as Directus
/// combines them: a row is visible when any policy's filter admits it, and the readable fields are the union of their
/// fields — and, as in Directus 11, a field only one policy grants shows only on the rows that policy's filter admits
/// (null elsewhere; <see cref="CollectionReadAccess.Guard"/>).
/// </summary>
public sealed class CallerPermissions : ICollectionAccess
{
    public static readonly CallerPermissions Admin = new(null, []);

    private readonly Dictionary<(string Collection, string Action), CollectionReadAccess>? _grants;
    private readonly Dictionary<(string Collection, string Action), WriteRules> _rules;

    private CallerPermissions(Dictionary<(string, string), CollectionReadAccess>? grants, IReadOnlyList<string> policyIds,
        Dictionary<(string, string), WriteRules>? rules = null)
    {
        _grants = grants;
        _rules = rules ?? [];
        PolicyIds = policyIds;
    }

    public bool IsAdmin => _grants is null;
    public IReadOnlyList<string> PolicyIds { get; }

    public CollectionReadAccess? Read(string collection) => Action(collection, "read");

    /// <summary>The grant for <paramref name="action"/> on <paramref name="collection"/>, or null when there is none.</summary>
    public CollectionReadAccess? Action(string collection, string action) =>
        _grants is null ? CollectionReadAccess.Everything : _grants.GetValueOrDefault((collection, action));

    /// <summary>The validation and presets of the grant for <paramref name="action"/>; none for admins or without a grant.</summary>
    public WriteRules Rules(string collection, string action) => _rules.GetValueOrDefault((collection, action)) ?? WriteRules.None;

    public static CallerPermissions From(GetPermissionsReply reply)
    {
        var grants = new Dictionary<(string, string), CollectionReadAccess>();
        var rules = new Dictionary<(string, string), WriteRules>();
        foreach (var group in reply.Permissions.GroupBy(p => (p.Collection, p.Action)))
        {
            var each = new List<FieldGrant>();
            foreach (var row in group)
            {
                var filter = row.PermissionsJson.Length == 0 || JsonNode.Parse(row.PermissionsJson) is not JsonObject { Count: > 0 } given
                    ? null : FilterParser.Parse(given, "permissions");
                each.Add(new FieldGrant(filter, row.HasFields ? row.Fields.ToHashSet(StringComparer.Ordinal) : []));
            }
            Filter? rowFilter = each.Any(g => g.RowFilter is null) ? null
                : each.Count == 1 ? each[0].RowFilter : new OrFilter(each.Select(g => g.RowFilter!).ToList());
            var fields = each.SelectMany(g => g.Fields).ToHashSet(StringComparer.Ordinal);
            grants[group.Key] = new CollectionReadAccess(rowFilter, fields, each.Count > 1 ? each : null);
            rules[group.Key] = WriteRules.From(group.ToList());
        }
        return new CallerPermissions(grants, [.. reply.PolicyIds], rules);
    }
}

/// <summary>
/// What a write grant adds to its row filter and fields: <see cref="Validation"/>, a filter the written values must
/// pass (several policies: passing any one suffices, as their row filters combine), and <see cref="Presets"/>, default
/// values for fields the payload leaves out (several policies: merged, a later row's value winning).
/// </summary>
public sealed record WriteRules(Filter? Validation, JsonObject Presets)
{
    public static readonly WriteRules None = new(null, []);

    public static WriteRules From(IReadOnlyList<Permission> rows)
    {
        var validations = new List<Filter>();
        var unvalidated = false;
        var presets = new JsonObject();
        foreach (var row in rows)
        {
            if (row.ValidationJson.Length == 0 || JsonNode.Parse(row.ValidationJson) is not JsonObject { Count: > 0 } validation)
                unvalidated = true;
            else
                validations.Add(FilterParser.Parse(validation, "validation"));
            if (row.PresetsJson.Length > 0 && JsonNode.Parse(row.PresetsJson) is JsonObject given)
                foreach (var (field, value) in given) presets[field] = value?.DeepClone();
        }
        Filter? combined = unvalidated || validations.Count == 0 ? null : validations.Count == 1 ? validations[0] : new OrFilter(validations);
        return new WriteRules(combined, presets);
    }
}
