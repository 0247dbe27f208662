using System.Text;
using System.IO.Pipelines;
using System.Text.Json;
using AiAssistant.Contracts.Settings;
using AiAssistant.ProviderSimulator;
using AiAssistant.Services.Chat.Chat;
using AiAssistant.Services.Chat.Providers;
using AiAssistant.Services.Chat.ToolLoop;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AiAssistant.Tests.Chat;

/// <summary>
/// Every built-in provider as a settings version builds it (<see cref="ProviderSnapshot"/>), pointed at the provider
/// simulator by its base URL variable (<c>AI_OPENAI_BASE_URL</c>, …), through whole chat turns.
/// </summary>
public sealed class ProvidersTests : IAsyncLifetime
{
    private const string Key = "sk-prov-0123456789abcdef";
    private SimulatorServer sim = null!;
    private ServiceProvider services = null!;

    public async Task InitializeAsync()
    {
        sim = await SimulatorServer.StartAsync();
        services = new ServiceCollection().AddProviderChatClients().BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await sim.DisposeAsync();
    }

    private IConfiguration Configuration(string? baseUrl = null) => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["AI_OPENAI_BASE_URL"] = baseUrl ?? sim.BaseUrl,
        ["AI_ANTHROPIC_BASE_URL"] = baseUrl ?? sim.BaseUrl,
        ["AI_GOOGLE_BASE_URL"] = baseUrl ?? $"http://127.0.0.1:{sim.Port}/v1beta",
    }).Build();

    private ProviderSnapshot Snapshot(string type, string model, bool reasoning = false, IConfiguration? configuration = null)
    {
        var config = new AiConfig { Version = 1 };
        config.Providers.Add(new ProviderConfig
        {
            Type = type, Id = type, Name = type, ApiKey = Key,
            Models = { new ProviderModel { Id = model, Name = model, Reasoning = reasoning } },
        });
        return new ProviderSnapshot(config, services.GetRequiredService<ProviderChatClients>(), configuration ?? Configuration());
    }

    private static async Task<EndToEnd.ChatStream> TurnAsync(IChatClient client, string model, CancellationToken ct = default)
    {
        var output = new MemoryStream();
        var stream = new UiMessageStreamWriter(PipeWriter.Create(output));
        var turn = new ChatTurn(new ToolExecutor(null!, NullLogger<ToolExecutor>.Instance), NullLogger<ChatTurn>.Instance);
        await turn.RunAsync(client, new ChatOptions { ModelId = model, Instructions = "Be brief." },
            new Conversation([new ChatMessage(ChatRole.User, "Hello")], []), new(), new AiAssistant.Contracts.Tools.ToolScope(),
            new HashSet<string>(), stream, ct);
        return EndToEnd.ChatStream.Parse(Encoding.UTF8.GetString(output.ToArray()), null);
    }

    [Fact]
    public void Base_urls_are_the_providers_own_unless_a_variable_overrides_them()
    {
        var none = new ConfigurationBuilder().Build();
        Assert.Equal("https://api.openai.com/v1", ProviderTypes.BaseUrl("openai", none).ToString());
        Assert.Equal("https://api.anthropic.com/v1", ProviderTypes.BaseUrl("anthropic", none).ToString());
        Assert.Equal("https://generativelanguage.googleapis.com/v1beta", ProviderTypes.BaseUrl("google", none).ToString());
        Assert.Equal("http://proxy.internal/v1", ProviderTypes.BaseUrl("anthropic", Configuration("http://proxy.internal/v1")).ToString());
    }

    [Fact]
    public async Task Openai_reaches_the_base_url_of_AI_OPENAI_BASE_URL()
    {
        sim.Enqueue(SimulatedReply.Text("Hello from the proxy."));
        using var snapshot = Snapshot("openai", "gpt-4o-mini");
        var chunks = await TurnAsync(snapshot.Providers["openai"].Client!, "gpt-4o-mini");

        Assert.Equal("Hello from the proxy.", chunks.Text);
        var request = Assert.Single(sim.Requests);
        Assert.StartsWith("/v1/", request.Path);
        Assert.Equal($"Bearer {Key}", request.Headers["Authorization"]);
    }
}
