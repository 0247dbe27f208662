using AiAssistant.Gateway.Access;
using AiAssistant.Gateway.Forwarding;
using AiAssistant.ServiceDefaults;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Redis;

// The route table ships next to the binary (appsettings.json), wherever the process is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults();
builder.AddRedis();
builder.AddAccess();
builder.Services.AddGatewayForwarding(builder.Configuration);

var app = builder.Build();
app.UseDirectusErrors();
app.MapDefaultEndpoints();
app.UseRouting();
app.UseMiddleware<GatewayAccess>();
app.MapForwardedRoutes();
app.Run();
