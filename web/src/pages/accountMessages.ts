import { addMessages } from "../i18n";
import * as accountScreens from "../messages/accountScreens";

// Imported by each account screen: their messages arrive with them.
addMessages(accountScreens);
