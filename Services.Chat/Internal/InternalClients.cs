using AiAssistant.Contracts;
using AiAssistant.Contracts.Settings;
using AiAssistant.Contracts.Tools;
using AiAssistant.ServiceDefaults;
using AiAssistant.ServiceDefaults.Grpc;
using AiAssistant.ServiceDefaults.Resilience;

namespace AiAssistant.Services.Chat.Internal;

/// <summary>gRPC clients to Settings and Tools, carrying the service credential on every call.</summary>
public sealed class InternalClients
{
    private readonly GrpcUnaryClient _settings;
    private readonly GrpcUnaryClient _tools;
    private readonly GrpcCallOptions _options;

    public InternalClients(IConfiguration configuration)
    {
        var token = configuration["Internal:Token"]
            ?? throw new InvalidOperationException("Missing setting Internal:Token (environment Internal__Token), the service credential.");
        _options = new GrpcCallOptions
        {
            Timeout = TimeSpan.FromSeconds(10),
            Headers = new Dictionary<string, string> { ["authorization"] = "Bearer " + token },
        };
        _settings = Create(configuration.ServiceUri(ResourceNames.Settings, "grpc"));
        _tools = Create(configuration.ServiceUri(ResourceNames.Tools, "grpc"));
    }

    private static GrpcUnaryClient Create(Uri address) =>
        new(new HttpClient(new RetryOnConnectFailureHandler(GrpcUnaryClient.CreateHandler())) { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan });

    public Task<AiConfig> GetAiConfigAsync(CancellationToken ct) =>
        _settings.CallAsync("aiassistant.settings.v1.AiSettings", "GetAiConfig", new GetAiConfigRequest(), AiConfig.Parser, _options, ct);

    public Task<ListToolsReply> ListToolsAsync(ListToolsRequest request, CancellationToken ct) =>
        _tools.CallAsync("aiassistant.tools.v1.Tools", "ListTools", request, ListToolsReply.Parser, _options, ct);

    public Task<ExecuteToolReply> ExecuteToolAsync(ExecuteToolRequest request, CancellationToken ct) =>
        _tools.CallAsync("aiassistant.tools.v1.Tools", "ExecuteTool", request, ExecuteToolReply.Parser, _options, ct);
}
