// Entry point: read the token, build the app, start the stream.

import { Api } from "./api";
import { App } from "./app";
import { readToken } from "./auth";
import { applyTheme, initialTheme } from "./theme";
import { Toolbar } from "./views/toolbar";

applyTheme(initialTheme());
const token = readToken();
const app = new App(new Api(token));
const toolbar = new Toolbar(app);
if (!token) {
  app.toasts.show("This page needs the address PingerPlot printed when it started (it carries the access token).", "error", 60000);
}
void toolbar.load();
app.start();
