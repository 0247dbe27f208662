using AiAssistant.Gateway.Proxy;
using AiAssistant.Gateway.Web;
using AiAssistant.ServiceDefaults;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Redis;

// The route table ships next to the binary (appsettings.json), wherever the process is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults();
builder.AddRedis();
builder.AddAccess();
builder.AddGatewayProxy();

var app = builder.Build();
app.UseDirectusErrors();
app.MapDefaultEndpoints();
app.MapGatewayProxy();
app.MapWebApp();
app.Run();
