using AiAssistant.Contracts;
using AiAssistant.Contracts.Settings;
using AiAssistant.ServiceDefaults.Redis;
using MassTransit;
using Microsoft.Extensions.AI;
using StackExchange.Redis;

namespace AiAssistant.Services.Chat.Providers;

/// <summary>One provider of a settings version: its models and, when it has credentials, its client.</summary>
public sealed record ConfiguredProvider(ProviderConfig Config, IChatClient? Client)
{
    public bool IsBuiltIn => Config.Type != ProviderTypes.OpenAiCompatible;
}

/// <summary>The provider clients of one settings version, built from its decrypted configuration.</summary>
public sealed class ProviderSnapshot : IDisposable
{
    public ProviderSnapshot(AiConfig config, ProviderChatClients chatClients, IConfiguration configuration)
    {
        Version = config.Version;
        SystemPrompt = config.SystemPrompt;
        UsageLimits = [.. config.UsageLimits];
        foreach (var p in config.Providers)
        {
            IChatClient? client = null;
            var headers = p.Headers.Select(h => KeyValuePair.Create(h.Name, h.Value)).ToList();
            switch (p.Type)
            {
                case ProviderTypes.OpenAiCompatible when Uri.TryCreate(p.BaseUrl, UriKind.Absolute, out var baseUrl):
                    client = chatClients.Create(baseUrl, p.ApiKey, headers, p.Name);
                    break;
                case ProviderTypes.OpenAi when p.ApiKey.Length > 0:
                    client = chatClients.CreateOpenAi(ProviderTypes.BaseUrl(p.Type, configuration), p.ApiKey);
                    break;
                case ProviderTypes.Anthropic when p.ApiKey.Length > 0:
                    client = chatClients.CreateAnthropic(ProviderTypes.BaseUrl(p.Type, configuration), p.ApiKey);
                    break;
                case ProviderTypes.Google when p.ApiKey.Length > 0:
                    client = chatClients.CreateGemini(ProviderTypes.BaseUrl(p.Type, configuration), p.ApiKey);
                    break;
            }
            Providers[p.Id] = new ConfiguredProvider(p, client);
        }
    }

    public long Version { get; }
    public string SystemPrompt { get; }
    /// <summary>Settings → AI's per-user limits by role (<c>ai_usage_limits</c>).</summary>
    public IReadOnlyList<UsageLimit> UsageLimits { get; }
    /// <summary>By the id chat requests name: openai, anthropic, google, openai-compatible, openai-compatible:&lt;id&gt;.</summary>
    public Dictionary<string, ConfiguredProvider> Providers { get; } = new();

    /// <summary>Ends the clients' telemetry (each has its own meter); a turn still using one just records no more.</summary>
    public void Dispose()
    {
        foreach (var provider in Providers.Values) provider.Client?.Dispose();
    }
}

public static class ProviderTypes
{
    public const string OpenAi = "openai";
    public const string Anthropic = "anthropic";
    public const string Google = "google";
    public const string OpenAiCompatible = "openai-compatible";
    public static readonly string[] All = [OpenAi, Anthropic, Google, OpenAiCompatible];

    /// <summary>A provider id a chat request may name: a type, or <c>openai-compatible:&lt;id&gt;</c> for a further compatible provider.</summary>
    public static bool IsValidId(string id) =>
        Array.IndexOf(All, id) >= 0 || (id.StartsWith(OpenAiCompatible + ":", StringComparison.Ordinal) && id.Length > OpenAiCompatible.Length + 1);

    /// <summary>
    /// Where a built-in provider's API is, as the AI SDK names its base URL: <c>AI_OPENAI_BASE_URL</c>,
    /// <c>AI_ANTHROPIC_BASE_URL</c>, <c>AI_GOOGLE_BASE_URL</c> override it (proxies, gateways, tests).
    /// </summary>
    public static Uri BaseUrl(string type, IConfiguration configuration) =>
        new(configuration[BaseUrlVariable(type)] is { Length: > 0 } configured ? configured : type switch
        {
            OpenAi => "https://api.openai.com/v1",
            Google => "https://generativelanguage.googleapis.com/v1beta",
            _ => "https://api.anthropic.com/v1",
        });

    public static string BaseUrlVariable(string type) => $"AI_{type.ToUpperInvariant()}_BASE_URL";
}

/// <summary>
/// This replica's provider clients, kept until a newer settings version is announced (event) or noticed (Redis).
/// A refresh fetches the decrypted configuration from Settings over gRPC; the keys live only in this memory.
/// </summary>
public sealed class ProviderConfigCache(AiSettings.AiSettingsClient settings, ProviderChatClients chatClients, IConfiguration configuration,
    ILogger<ProviderConfigCache> logger)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile ProviderSnapshot? _current;

    public long Version => _current?.Version ?? 0;

    public async ValueTask<ProviderSnapshot> GetAsync(CancellationToken ct) => _current ?? await RefreshAsync(1, ct);

    /// <summary>Makes sure the snapshot is at least <paramref name="version"/>; one fetch at a time.</summary>
    public async Task<ProviderSnapshot> RefreshAsync(long version, CancellationToken ct)
    {
        if (_current is { } c && c.Version >= version) return c;
        await _refresh.WaitAsync(ct);
        try
        {
            if (_current is { } again && again.Version >= version) return again;
            var config = await settings.GetAiConfigAsync(new GetAiConfigRequest(), cancellationToken: ct);
            var snapshot = new ProviderSnapshot(config, chatClients, configuration);
            var previous = _current;
            _current = snapshot;
            previous?.Dispose();
            logger.LogInformation("Provider clients rebuilt for settings version {Version}", snapshot.Version);
            return snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }
}

/// <summary>Each replica's own queue delivers <see cref="AiSettingsChanged"/>; a newer version rebuilds the clients.</summary>
public sealed class AiSettingsChangedConsumer(ProviderConfigCache cache) : IConsumer<AiSettingsChanged>
{
    public Task Consume(ConsumeContext<AiSettingsChanged> context) => cache.RefreshAsync(context.Message.Version, context.CancellationToken);
}

/// <summary>Catches what the events missed: reads the newest version from Redis once a second.</summary>
public sealed class SettingsVersionWatcher(ProviderConfigCache cache, IConnectionMultiplexer redis, ILogger<SettingsVersionWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        var failing = false;
        do
        {
            try
            {
                if (cache.Version == 0) await cache.RefreshAsync(1, stoppingToken);
                var stored = (string?)await redis.GetDatabase().StringGetAsync(ResourceNames.SettingsVersionKey);
                if (long.TryParse(stored, out var version) && version > cache.Version)
                {
                    logger.LogInformation("Settings version {Version} seen in Redis (this replica had {Current})", version, cache.Version);
                    await cache.RefreshAsync(version, stoppingToken);
                }
                failing = false;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                if (!failing) logger.LogWarning("Settings version check failed ({ExceptionType}); retrying every second", e.GetType().Name);
                failing = true;
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
