using System.Diagnostics;
using System.Security.Cryptography;
using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.Defaults;

/// <summary>A service started without a setting it needs exits at once with one line naming it, never a stack trace.</summary>
public sealed class RequiredSettingsTests
{
    public static TheoryData<string, string, string, string> Cases() => new()
    {
        // (project, assembly, the variables given, the setting the line must name)
        { "Gateway", "Gateway", "", "ConnectionStrings__redis" },
        { "Services.Settings", "Services.Settings", "", "ConnectionStrings__settingsdb" },
        { "Services.Tools", "Services.Tools", "", "ConnectionStrings__contentdb" },
        { "Services.Chat", "Services.Chat", "", "ConnectionStrings__chatdb" },
        { "Gateway", "Gateway", "ConnectionStrings__redis=127.0.0.1:1", "Internal__Token" },
        { "Services.Settings", "Services.Settings",
            "ConnectionStrings__settingsdb=Host=127.0.0.1;Port=1;Username=u;Password=p;Database=settings ConnectionStrings__redis=127.0.0.1:1 " +
            "ConnectionStrings__rabbitmq=amqp://u:p@127.0.0.1:1 Internal__Token=0123456789abcdef0123456789abcdef", "Secrets__MasterKey" },
        { "Gateway", "Gateway", $"ConnectionStrings__redis=127.0.0.1:1 Internal__Token=t Auth__JwtKey=c2hvcnQ=", "Auth__JwtKey" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_missing_setting_ends_the_service_with_one_line_naming_it(string project, string assembly, string given, string named)
    {
        var start = new ProcessStartInfo("dotnet", GatewayProcess.Built(project, assembly))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // nothing from this process's environment: only what the case gives
        foreach (var name in start.Environment.Keys.Where(k => k.Contains("__", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        foreach (var pair in given.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            start.Environment[pair[..pair.IndexOf('=')]] = pair[(pair.IndexOf('=') + 1)..];
        start.Environment["Kestrel__Endpoints__http__Url"] = $"http://127.0.0.1:{GatewayProcess.FreePort()}";
        start.Environment["Shutdown__DrainDelay"] = "00:00:00";

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); Assert.Fail($"{assembly} kept running without {named}"); }

        var errors = (await stderr).Trim();
        var all = errors + "\n" + await stdout;
        Assert.True(process.ExitCode == 78, $"exit code {process.ExitCode}: {all}");
        Assert.Single(errors.Split('\n'));
        Assert.StartsWith($"{assembly}: ", errors);
        Assert.Contains(named, errors);
        Assert.DoesNotContain("   at ", all);
        Assert.DoesNotContain("Unhandled exception", all);
    }
}
