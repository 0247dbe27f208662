using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Settings.Settings;

/// <summary>
/// <c>/settings</c>: Directus-shaped reads and writes of the AI settings (admins), and for other users with app
/// access the fields the app needs and that hold nothing secret (<see cref="AppReadable"/>: which collection the
/// assistant's prompts come from), as Directus's app permissions let every app user read the settings.
/// </summary>
public static class SettingsApi
{
    public static readonly string[] AppReadable = ["mcp_prompts_collection"];

    public static IEndpointRouteBuilder MapSettingsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/settings");
        group.MapGet("", GetSettings).WithName("GetSettings");
        group.MapPatch("", PatchSettings).WithName("PatchSettings");
        return app;
    }

    private static async Task<IResult> GetSettings(HttpContext context, AiSettingsStore store, string? fields, CancellationToken ct)
    {
        var caller = context.RequireApp();
        var all = await store.ReadMaskedAsync(ct);
        if (caller.Admin) return TypedResults.Json(new { data = Select(all, fields) });
        var readable = new JsonObject();
        foreach (var field in AppReadable) readable[field] = all[field]?.DeepClone();
        if (!string.IsNullOrWhiteSpace(fields) && fields.Trim() != "*")
            foreach (var name in fields.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (!readable.ContainsKey(name) && all.ContainsKey(name))
                    throw DirectusException.Forbidden($"You don't have permission to access field \"{name}\" of settings.");
        return TypedResults.Json(new { data = Select(readable, fields) });
    }

    private static async Task<IResult> PatchSettings(HttpContext context, AiSettingsStore store, PromptsCollectionCheck prompts, CancellationToken ct)
    {
        var admin = context.RequireAdmin();
        var patch = await ReadPatchAsync(context.Request, ct);
        await prompts.EnsureValidAsync(patch, ct);
        await store.PatchAsync(patch, actor: admin.UserId, ct);
        return TypedResults.Json(new { data = await store.ReadMaskedAsync(ct) });
    }

    /// <summary>Parses and validates the whole body before anything is stored.</summary>
    private static async Task<Dictionary<string, JsonNode?>> ReadPatchAsync(HttpRequest request, CancellationToken ct)
    {
        var obj = await JsonBody.ReadObjectAsync(request, ct);
        var patch = new Dictionary<string, JsonNode?>();
        foreach (var (field, value) in obj)
        {
            if (Array.IndexOf(AiSettingsFields.All, field) < 0)
                throw DirectusException.InvalidPayload($"\"{field}\" is not a known settings field", field);
            patch[field] = AiSettingsFields.Validate(field, value);
        }
        return patch;
    }

    /// <summary>Directus's <c>fields</c> query parameter: a comma-separated list, <c>*</c> for all.</summary>
    private static JsonObject Select(JsonObject all, string? fields)
    {
        if (string.IsNullOrWhiteSpace(fields) || fields.Trim() == "*") return all;
        var result = new JsonObject();
        foreach (var name in fields.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!all.ContainsKey(name))
                throw new DirectusException(StatusCodes.Status400BadRequest, ErrorCodes.InvalidQuery,
                    $"Invalid query. Field \"{name}\" does not exist in settings.");
            result[name] = all[name]?.DeepClone();
        }
        return result;
    }
}
