// Stand-in for Microsoft's stock "generic CRM" CTI driver (samples/GenericExampleCTIDriver in
// microsoft/dynamics-365-contact-center), written from its documented behaviour. What it puts
// on the wire is the point, and it must stay exactly this:
//   CRM -> widget: every `message` event is JSON.parse'd, with NO try/catch and NO origin or
//                  source check; {"messageType":"clickToDial","messageData":{"number":...}}
//                  calls ctiDriver.clickToDial({number}).
//   widget -> CRM: on conversation.onConversationLoaded the payload object itself is posted,
//                  untagged, to window.parent with target origin '*'. Nothing else leaves.
// Like the sample, it then reads the presence, looks up the Do Not Disturb option and sets it,
// and asks for the focused conversation; the other events are only logged. Its soft-phone panel
// callbacks throw "Method not implemented." as the sample's do.
(function () {
  'use strict';

  var OCLiveWorkItemStatus = { Active: 2, WrapUp: 5, Closed: 4 };

  function embedSDKSampleUsage() {
    // The sample reads the SDK from the global, not from the constructor argument (same object).
    var embedSDK = window.Microsoft.CCaaS.EmbedSDK;
    if (!embedSDK) return;

    embedSDK.conversation.onNotesAdded(function (noteText) {
      console.log('Embed SDK New Note Created', noteText);
    });

    embedSDK.conversation.onConversationLoaded(function (conversationData) {
      console.log('Embed SDK Conversation Loaded', conversationData);
      window.parent.postMessage(conversationData, '*');
      presenceAPIs(embedSDK);
      getFocusedConversationId(embedSDK);
    });

    embedSDK.conversation.onTransfer(function (data) {
      console.log('Embed SDK Conversation Transferred', data);
    });

    embedSDK.conversation.onStatusChange(function (conversationData) {
      console.log('Embed SDK Conversation State Changed', conversationData);
      if (conversationData.statusCode === OCLiveWorkItemStatus.Closed) {
        getTranscript(embedSDK, conversationData.liveWorkItemId);
      }
    });

    embedSDK.conversation.onNewMessage(function (data) {
      console.log('Embed SDK New Message', data);
    });

    embedSDK.conversation.onAccept(function (eventData) {
      console.log('Embed SDK Conversation Accepted', eventData);
      addNewNotification(embedSDK);
      getAssignedConversationsList(embedSDK);
      getConversationData(embedSDK, eventData.liveWorkItemId);
      retrieveRecord(embedSDK, eventData.liveWorkItemId);
      retrieveMultipleRecords(embedSDK, eventData.liveWorkItemId);
    });

    embedSDK.conversation.onReject(function (data) {
      console.log('Embed SDK Conversation Rejected', data);
    });
    embedSDK.conversation.onConsultStart(function (data) {
      console.log('Embed SDK Consult Started', data);
    });
    embedSDK.conversation.onConsultEnd(function (data) {
      console.log('Embed SDK Consult Ended', data);
    });
    embedSDK.conversation.onCustomerSentimentChange(function (data) {
      console.log('Embed SDK Customer Sentiment Changed', data);
    });
    embedSDK.notification.onNewConversationNotification(function (data) {
      console.log('Embed SDK New Conversation Notification', data);
    });
    embedSDK.notification.onNewNotification(function (data) {
      console.log('Embed SDK New Notification', data);
    });
    embedSDK.presence.onPresenceChange(function (data) {
      console.log('Embed SDK Agent Presence Changed', data);
    });
    embedSDK.voiceOrVideoCalling.onHoldChange(function (data) {
      console.log('Embed SDK Call hold changed', data);
    });
    embedSDK.voiceOrVideoCalling.onMuteChange(function (data) {
      console.log('Embed SDK Call mute changed', data);
    });

    embedSDK.ctiDriver.onSoftPhonePanelHeightChange(function () {
      throw new Error('Method not implemented.');
    });
    embedSDK.ctiDriver.onSoftPhonePanelWidthChange(function () {
      throw new Error('Method not implemented.');
    });
    embedSDK.ctiDriver.onSoftPhonePanelVisibilityChange(function () {
      throw new Error('Method not implemented.');
    });

    // Handed over unbound, as in the sample.
    clickToDial(embedSDK.ctiDriver.clickToDial);

    setupCopilotSummaryOnStatusChange(embedSDK);
  }

  function presenceAPIs(embedSDK) {
    embedSDK.presence.getPresence().then(function (presenceInfo) {
      console.log("Embed SDK Agent's Current Presence:", presenceInfo);
    }).catch(function (error) {
      console.error("Embed SDK Failed to retrieve agent's presence status:", error);
    });

    embedSDK.presence.getPresenceOptions().then(function (presenceOptions) {
      var busyDNDOption = presenceOptions.find(function (option) {
        return option.basePresenceStatus === 'BUSY_DO_NOT_DISTURB';
      });
      if (busyDNDOption) {
        embedSDK.presence.setPresence(busyDNDOption.presenceId).then(function () {
          console.log("Embed SDK Agent's presence status has been updated to 'busyDND'.");
        }).catch(function (error) {
          console.error("Embed SDK Failed to update agent's presence status:", error);
        });
      } else {
        console.warn("Embed SDK 'busyDND' presence option not found.");
      }
    }).catch(function (error) {
      console.error('Embed SDK Failed to retrieve presence options:', error);
    });
  }

  function getTranscript(embedSDK, liveWorkItemId) {
    embedSDK.conversation.getTranscript(liveWorkItemId).then(function (transcript) {
      console.log('Embed SDK Transcript', transcript);
    }).catch(function (error) {
      console.error('Embed SDK Failed to retrieve transcript:', error);
    });
  }

  function addNewNotification(embedSDK) {
    embedSDK.notification.addNewNotification({ level: 4, message: 'New conversation assigned to you!' })
      .then(function (id) { console.log('Embed SDK Notification added with ID:', id); })
      .catch(function (error) { console.error('Embed SDK Failed to add notification:', error); });
  }

  function getAssignedConversationsList(embedSDK) {
    embedSDK.conversation.getAssignedConversationsList(OCLiveWorkItemStatus.Active)
      .then(function (list) { console.log('Embed SDK getAssignedConversationsList:', list); })
      .catch(function (error) { console.error('Embed SDK getAssignedConversationsList failed:', error); });
  }

  function getFocusedConversationId(embedSDK) {
    embedSDK.conversation.getFocusedConversationId()
      .then(function (id) { console.log('Embed SDK getFocusedConversationId:', id); })
      .catch(function (error) { console.error('Embed SDK getFocusedConversationId failed:', error); });
  }

  function getConversationData(embedSDK, liveWorkItemId) {
    var columns = ['msdyn_ocliveworkitemid', 'msdyn_channel', 'statuscode', 'msdyn_createdon'];
    embedSDK.conversation.getConversationData(liveWorkItemId, columns)
      .then(function (data) { console.log('Embed SDK Conversation data:', data); })
      .catch(function (error) { console.error('Embed SDK Failed to retrieve conversation data:', error); });
  }

  function retrieveRecord(embedSDK, liveWorkItemId) {
    embedSDK.dataverse.retrieveRecord('msdyn_ocliveworkitems', liveWorkItemId, '?$select=msdyn_createdon')
      .then(function (data) { console.log('Embed SDK Retrieve record Response:', data); })
      .catch(function (error) { console.error('Embed SDK Failed to retrieve record:', error); });
  }

  function retrieveMultipleRecords(embedSDK, liveWorkItemId) {
    var fetchXml = '<fetch top="50"><entity name="msdyn_ocliveworkitem"><attribute name="msdyn_ocliveworkitemid"/>' +
      '<attribute name="msdyn_channel"/><attribute name="statuscode"/><attribute name="msdyn_createdon"/>' +
      '<filter><condition attribute="msdyn_ocliveworkitemid" operator="eq" value="' + liveWorkItemId + '"/>' +
      '</filter></entity></fetch>';
    embedSDK.dataverse.retrieveMultipleRecords('msdyn_ocliveworkitems', '?fetchXml=' + fetchXml)
      .then(function (data) { console.log('Embed SDK Retrieve multiple records Response:', data); })
      .catch(function (error) { console.error('Embed SDK Failed to retrieve multiple records:', error); });
  }

  // The CRM -> widget channel. Deliberately no try/catch and no origin/source check.
  function clickToDial(callbackFunction) {
    window.addEventListener('message', function (event) {
      const { messageType, messageData } = JSON.parse(event.data);
      if (messageType && messageType === 'clickToDial') {
        var clickDialPayload = {
          number: messageData.number
        };
        callbackFunction(clickDialPayload);
      }
    });
  }

  function setupCopilotSummaryOnStatusChange(embedSDK) {
    embedSDK.conversation.onStatusChange(async function (e) {
      if (e.statusCode === OCLiveWorkItemStatus.WrapUp) {
        try {
          var focusedConversationId = await embedSDK.conversation.getFocusedConversationId();
          if (focusedConversationId) {
            try {
              var summary = await embedSDK.conversation.getCopilotSummary(focusedConversationId);
              console.log('Copilot summary for conversation ' + focusedConversationId + ':', summary);
            } catch (error) {
              console.error('Error getting copilot summary:', error);
            }
          }
        } catch (error) {
          console.error('Error getting focused conversation ID:', error);
        }
      }
    });
  }

  class GenericExampleCTIDriver {
    constructor(ccaaSSDKInstance) {
      if (!ccaaSSDKInstance) {
        throw new Error('ccaaSSDKInstance cannot be null or undefined');
      }
      this.ccaaSSDKInstance = ccaaSSDKInstance;
    }

    // The sample loads a CRM-side script here; there is nothing to load in the tests.
    initialize() {
      return Promise.resolve(true);
    }

    bindEvents() {
      embedSDKSampleUsage();
    }
  }

  window.CCaaS = window.CCaaS || {};
  if (!window.CCaaS.CTIDriver) {
    window.CCaaS.CTIDriver = GenericExampleCTIDriver;
  }
})();
