using AiAssistant.Contracts.Settings;
using Grpc.Core;

namespace AiAssistant.Services.Settings.Settings;

/// <summary>gRPC <c>AiSettings.GetAiConfig</c>: the decrypted configuration, for callers with the service credential only.</summary>
public sealed class AiConfigGrpc(AiSettingsStore store) : AiSettings.AiSettingsBase
{
    public override Task<AiConfig> GetAiConfig(GetAiConfigRequest request, ServerCallContext context) =>
        store.LoadConfigAsync(context.CancellationToken);
}
