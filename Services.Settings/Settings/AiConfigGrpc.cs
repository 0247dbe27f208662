using AiAssistant.Contracts.Settings;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Grpc;

namespace AiAssistant.Services.Settings.Settings;

/// <summary>gRPC <c>AiSettings.GetAiConfig</c>: the decrypted configuration, for callers with the service credential only.</summary>
public static class AiConfigGrpc
{
    public const string Service = "aiassistant.settings.v1.AiSettings";

    public static IEndpointRouteBuilder MapAiConfigGrpc(this IEndpointRouteBuilder app)
    {
        app.MapGrpcUnary<GetAiConfigRequest, AiConfig>(Service, "GetAiConfig", async (_, call) =>
        {
            BearerTokens.RequireInternal(call);
            return await call.HttpContext.RequestServices.GetRequiredService<AiSettingsStore>().LoadConfigAsync(call.CancellationToken);
        });
        return app;
    }
}
