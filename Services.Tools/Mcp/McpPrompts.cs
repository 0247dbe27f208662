using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.Content.Schema;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using McpPromptMessage = ModelContextProtocol.Protocol.PromptMessage;

namespace AiAssistant.Services.Tools.Mcp;

/// <summary>
/// MCP's <c>prompts/list</c> and <c>prompts/get</c> from the prompts collection (<c>mcp_prompts_collection</c>), read
/// under the caller's own permissions (only published prompts when the collection has a <c>status</c>): each prompt's
/// <c>{{variables}}</c> are its arguments, all required; a rendered prompt is its system prompt as an assistant
/// message, then its messages. A caller who may not read the collection sees no prompts.
/// </summary>
public sealed class McpPrompts(ItemsReader reader, IPermissionSource permissions, SchemaCache schema)
{
    private static readonly string[] Fields = ["name", "description", "system_prompt", "messages"];

    public async ValueTask<ListPromptsResult> ListAsync(McpRequest request, CancellationToken ct) => new()
    {
        Prompts = (await ReadAsync(request, name: null, ct)).Select(p => new Prompt
        {
            Name = p.Name,
            Description = p.Description,
            Arguments = p.Variables().Select(v => new PromptArgument { Name = v.Name, Description = v.Description, Required = true }).ToList(),
        }).ToList(),
    };

    public async ValueTask<GetPromptResult> GetAsync(McpRequest request, GetPromptRequestParams get, CancellationToken ct)
    {
        var prompt = (await ReadAsync(request, get.Name, ct)).FirstOrDefault()
            ?? throw new McpProtocolException($"Prompt \"{get.Name}\" not found", McpErrorCode.InvalidParams);
        var values = get.Arguments?.ToDictionary(a => a.Key, a => a.Value.ValueKind == JsonValueKind.String ? a.Value.GetString()! : a.Value.GetRawText());
        List<McpPromptMessage> messages;
        try
        {
            messages = prompt.Render(values).Select(m => new McpPromptMessage
            {
                Role = m.Role == "assistant" ? Role.Assistant : Role.User,
                Content = new TextContentBlock { Text = m.Text },
            }).ToList();
        }
        catch (MissingPromptArgumentsException e)
        {
            throw new McpProtocolException(e.Message, McpErrorCode.InvalidParams);
        }
        return new GetPromptResult { Description = prompt.Description, Messages = messages };
    }

    /// <summary>The caller's prompts (or the one named <paramref name="name"/>), by name.</summary>
    private async Task<IReadOnlyList<PromptTemplate>> ReadAsync(McpRequest request, string? name, CancellationToken ct)
    {
        var collection = request.Config.PromptsCollection;
        if (collection.Length == 0) return [];
        var snapshot = await schema.GetAsync(ct);
        if (snapshot.Collection(collection) is not { IsFolder: false, Meta.System: false } table) return [];
        var granted = await permissions.ForAsync(request.Caller, ct);
        if (granted.Read(collection) is not { } read) return [];
        var fields = Fields.Where(f => table.Field(f) is not null && read.CanRead(f)).ToList();
        if (!fields.Contains("name")) return [];

        var filters = new JsonArray();
        if (table.Field("status") is not null) filters.Add(new JsonObject { ["status"] = new JsonObject { ["_eq"] = "published" } });
        if (name is not null) filters.Add(new JsonObject { ["name"] = new JsonObject { ["_eq"] = name } });
        var query = new JsonObject
        {
            ["fields"] = new JsonArray(fields.Select(f => (JsonNode)f).ToArray()),
            ["sort"] = new JsonArray("name"),
            ["limit"] = -1,
        };
        if (filters.Count > 0) query["filter"] = new JsonObject { ["_and"] = filters };
        try
        {
            var page = await reader.ReadAsync(snapshot, collection, QueryParser.Parse(query), granted,
                reader.Context(request.Caller.UserId, request.Caller.RoleId, granted.PolicyIds), transaction: null, ct);
            return page.Items.OfType<JsonObject>().Select(PromptTemplate.FromItem).OfType<PromptTemplate>().ToList();
        }
        catch (DirectusException e) when (e.Status == StatusCodes.Status403Forbidden)
        {
            // a grant that does not reach status (a draft must never show): no prompts rather than an error
            return [];
        }
    }
}
