using System.Net;
using AiAssistant.AppHost.Orchestration;
using AiAssistant.AppHost.Processes;
using AiAssistant.AppHost.Resources;
using AiAssistant.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace AiAssistant.Tests.Launcher;

/// <summary>The in-process orchestration the end-to-end tests build on, over the shared servers.</summary>
[Collection(ServersCollection.Name)]
public sealed class StackTests(ServersFixture servers, ITestOutputHelper output)
{
    [Fact]
    public async Task A_service_can_be_stopped_and_started_again_and_a_crash_is_reported_not_hidden()
    {
        var crashed = new TaskCompletionSource<ServiceResource>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var stack = Stack.Create(new StackOptions
        {
            UseServers = servers.Servers, ChatReplicas = 1, GatewayPort = 0, DatabaseSuffix = "_stack_tests",
            Status = line => Log($"[stack] {line}"),
        });
        stack.ServiceFailed += s => crashed.TrySetResult(s);
        await stack.StartAsync();
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(stack.GatewayUrl + "/health")).StatusCode);
        Assert.All(stack.Services, s => Assert.Equal(ResourceState.Running, s.State));
        Assert.NotEmpty(stack.Logs.Lines("chat"));

        var chat = stack.Service("chat-0");
        var (url, pid) = (chat.HttpUrl, chat.Pid!.Value);
        await stack.StopServiceAsync("chat-0");
        Assert.Equal(ResourceState.Stopped, chat.State);
        Assert.False(ProcFs.IsAlive(pid));
        await stack.StartServiceAsync("chat-0");
        Assert.Equal(url, chat.HttpUrl); // the gateway's reference to it stays valid
        Assert.NotEqual(pid, chat.Pid);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url + "/health")).StatusCode);

        Posix.Signal(stack.Tools.Pid!.Value, Posix.SigKill);
        var failed = await crashed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Same(stack.Tools, failed);
        Assert.Equal(ResourceState.Failed, failed.State);
        Assert.Contains("FAILED: exited with code 137", stack.FormatTable());
        Assert.Equal(ResourceState.Running, stack.Settings.State); // the rest keeps running

        await stack.StopAsync();
        Assert.Empty(ProcFs.OwnedBy(mark => mark.StartsWith(stack.DataFolder, StringComparison.Ordinal)));
        Assert.False(Directory.Exists(stack.DataFolder)); // a temporary one, as it used the fixture's servers
        Assert.Equal(ResourceState.Running, servers.Postgres.State); // servers it did not start are left alone
    }

    private void Log(string line)
    {
        try { output.WriteLine(line); } catch (InvalidOperationException) { } // after the test ended
    }
}
