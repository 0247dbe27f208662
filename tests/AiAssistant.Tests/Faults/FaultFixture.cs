using System.Net.Http.Json;
using AiAssistant.Tests.EndToEnd;
using Xunit;

namespace AiAssistant.Tests.Faults;

[CollectionDefinition(Name)]
public sealed class FaultsCollection : ICollectionFixture<FaultFixture>
{
    public const string Name = "faults";
}

/// <summary>
/// A whole stack of its own for the fault suite (the real AppHost, two Chat replicas, the provider simulator): its
/// faults — killed replicas, stopped servers — must not reach the tests that share <see cref="EndToEndFixture"/>.
/// The simulator answers at a pace where a turn streams for about half a second, so a fault finds streams in flight.
/// </summary>
public sealed class FaultFixture : IAsyncLifetime
{
    public const string Collection = "fault_notes";
    public EndToEndFixture Stack { get; } = new();
    /// <summary>The provider key every replica uses now.</summary>
    public string Key { get; private set; } = "";

    public void UseKey(string key) => Key = key;

    public async Task InitializeAsync()
    {
        await Stack.InitializeAsync();
        Key = await Stack.UseNewKeyAsync();
        Stack.Simulator.DefaultPacing = new ProviderSimulator.Pacing(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(10));
        await Stack.PostAsync("/collections", new
        {
            collection = Collection,
            schema = new { },
            fields = new object[]
            {
                new { field = "id", type = "integer", schema = new { is_primary_key = true, has_auto_increment = true } },
                new { field = "title", type = "string" },
            },
        });
    }

    /// <summary>One chat turn through the gateway, read to its end: ok when it finished and ended with [DONE].</summary>
    public Task<LoadRun.Result> ChatTurnAsync(CancellationToken ct) => ChatTurnAsync(EndToEndFixture.ChatBody("fault load"), _ => null, ct);

    /// <summary>
    /// A chat turn of <paramref name="body"/>; <paramref name="check"/> looks at a finished stream and says what is
    /// wrong with it (null: nothing).
    /// </summary>
    public async Task<LoadRun.Result> ChatTurnAsync(object body, Func<ChatStream, string?> check, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ai/chat") { Content = JsonContent.Create(body) };
        using var response = await Stack.Gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var servedBy = response.Headers.TryGetValues("X-Served-By", out var v) ? v.Single() : null;
        string text;
        try
        {
            text = await response.Content.ReadAsStringAsync(ct);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return new(false, (int)response.StatusCode, servedBy, $"cut mid-stream ({e.GetType().Name})");
        }
        if (!response.IsSuccessStatusCode) return new(false, (int)response.StatusCode, servedBy, text[..Math.Min(text.Length, 300)]);
        var stream = ChatStream.Parse(text, servedBy);
        var wrong = stream.Done && stream.Types.Contains("finish") && !stream.Types.Contains("error")
            ? check(stream) : $"stream: {string.Join(",", stream.Types)} done={stream.Done}";
        return new(wrong is null, (int)response.StatusCode, servedBy, wrong ?? "finished");
    }

    public Task DisposeAsync() => Stack.DisposeAsync();
}
