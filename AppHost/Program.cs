using AiAssistant.AppHost.Hosting;
using AiAssistant.AppHost.Orchestration;

// The launcher: servers, then services in dependency order, each as its own process; Ctrl+C stops it all.
LauncherOptions options;
try { options = LauncherOptions.Parse(args); }
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(LauncherOptions.Usage);
    return 2;
}
if (options.Help)
{
    Console.WriteLine(LauncherOptions.Usage);
    return 0;
}

var console = new ConsoleOutput();
using var shutdown = new ShutdownSignal();
Stack stack;
try { stack = Stack.Create(options.ToStackOptions(console.Status)); }
catch (Exception e)
{
    console.Loud(e.Message);
    return 1;
}

console.Status($"artifacts {stack.Layout.ArtifactsPath} ({stack.Layout.Configuration}), data {stack.DataFolder}");
console.Follow(stack.Logs, stack.Servers.All, options.ServerLogs);
shutdown.Forced += () =>
{
    console.Loud("second signal: killing everything now");
    stack.Kill();
    Environment.Exit(130);
};
stack.StartFailed += e => console.Loud(e.Message);
stack.ServiceFailed += service =>
{
    console.Loud($"{service.Name} EXITED UNEXPECTEDLY with code {service.ExitCode}; it is not restarted, the rest keeps running");
    console.Plain(stack.FormatTable());
};

try
{
    await stack.StartAsync(shutdown.Token);
}
catch (OperationCanceledException) when (shutdown.Requested)
{
    console.Status("interrupted while starting; everything is stopped");
    return 0;
}
catch (Exception)
{
    console.Plain(stack.FormatTable());
    console.Status("start failed; everything is stopped");
    return 1;
}

console.Plain(stack.FormatTable());
// A token the launcher generated is shown (it is the only way to learn it); one that was given never is.
if (stack.AdminTokenGenerated)
    console.Plain($"Admin token (generated, kept in {stack.Secrets.GeneratedAdminTokenPath}): {stack.AdminToken}");
console.Plain($"Gateway: {stack.GatewayUrl}");
await shutdown.RequestedTask;
console.Status("stopping (Ctrl+C again to kill at once)");
await stack.StopAsync();
return 0;
