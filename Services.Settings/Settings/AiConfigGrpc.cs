using AiAssistant.Contracts.Settings;
using Grpc.Core;

namespace AiAssistant.Services.Settings.Settings;

/// <summary>
/// gRPC <c>AiSettings</c>, for callers with the service credential only: <c>GetAiConfig</c> (the decrypted provider
/// configuration, Chat) and <c>GetMcpConfig</c> (the MCP settings, Tools).
/// </summary>
public sealed class AiConfigGrpc(AiSettingsStore store) : AiSettings.AiSettingsBase
{
    public override Task<AiConfig> GetAiConfig(GetAiConfigRequest request, ServerCallContext context) =>
        store.LoadConfigAsync(context.CancellationToken);

    public override Task<McpConfig> GetMcpConfig(GetMcpConfigRequest request, ServerCallContext context) =>
        store.LoadMcpConfigAsync(context.CancellationToken);
}
