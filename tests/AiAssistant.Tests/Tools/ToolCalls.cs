using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Tests.Tools;

/// <summary>A <see cref="ToolCall"/> as the registry's pipeline hands it to a handler, for handler tests.</summary>
public static class ToolCalls
{
    public static ToolCall For(string input, CallerPermissions? permissions = null, ToolScope? scope = null)
    {
        var granted = permissions ?? CallerPermissions.Admin;
        var identity = new CallerIdentity("00000000-0000-0000-0000-0000000000a1", null, permissions is null, true);
        var context = new QueryContext(identity.UserId, null, [], granted.PolicyIds, TimeProvider.System);
        var caller = new ToolCaller(identity, granted, new WriteCaller(granted, context, null, "test", null));
        return new ToolCall((JsonObject)JsonNode.Parse(input)!, caller, scope ?? new ToolScope(ToolSurface.Chat, null, ToolScope.NoApprovals), CancellationToken.None);
    }
}
