using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts;
using AiAssistant.Contracts.Content;
using AiAssistant.ServiceDefaults.Errors;
using Grpc.Core;
using Grpc.Net.ClientFactory;
using ContentClient = AiAssistant.Contracts.Content.Content.ContentClient;

namespace AiAssistant.Services.Settings.Settings;

/// <summary>
/// Before a PATCH names a prompts collection (<c>mcp_prompts_collection</c>), Tools is asked whether the content
/// store has it with the prompt fields (gRPC <c>Content.ValidatePromptsCollection</c>). A refusal is 400 on that
/// field; Tools out of reach is 503 naming it. Either way the PATCH stores nothing.
/// </summary>
public sealed class PromptsCollectionCheck(GrpcClientFactory clients)
{
    public async Task EnsureValidAsync(IReadOnlyDictionary<string, JsonNode?> patch, CancellationToken ct)
    {
        if (!patch.TryGetValue(AiSettingsFields.McpPromptsCollection, out var value)
            || value is not JsonValue v || v.GetValueKind() != JsonValueKind.String || v.GetValue<string>() is not { Length: > 0 } collection)
            return;
        ValidatePromptsCollectionReply reply;
        try
        {
            // the client is made only when needed: a Settings without Tools' address still takes every other PATCH
            var content = clients.CreateClient<ContentClient>(nameof(ContentClient));
            reply = await content.ValidatePromptsCollectionAsync(new ValidatePromptsCollectionRequest { Collection = collection }, cancellationToken: ct);
        }
        catch (RpcException e)
        {
            throw DirectusException.ServiceUnavailable(ResourceNames.Tools, $"The prompts collection can't be checked ({e.StatusCode})");
        }
        if (!reply.Ok) throw DirectusException.InvalidPayload(reply.Message, AiSettingsFields.McpPromptsCollection);
    }
}
